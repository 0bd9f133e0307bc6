# Writes OUTPUT, a C++ file defining neuroemu::serve::live_page_html() as the bytes of INPUT (the live page), so
# the page stays an ordinary, editable HTML file and the binary needs no file at run time.
file(READ "${INPUT}" hex HEX)
string(LENGTH "${hex}" hex_length)
math(EXPR size "${hex_length} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "((0x..,){32})" "\\1\n" bytes "${bytes}")
file(WRITE "${OUTPUT}.tmp" "// Generated from serve/page/live.html by serve/page/embed.cmake: edit the HTML, not this file.
#include \"serve/page_server.h\"

namespace neuroemu::serve {
namespace {
const unsigned char kPage[${size}] = {
${bytes}
};
}  // namespace

std::string_view live_page_html() { return {reinterpret_cast<const char*>(kPage), sizeof kPage}; }

}  // namespace neuroemu::serve
")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
