#include "mapping/json_reader.h"

namespace neuroemu {
namespace {

// nlohmann's DOM builder, stopped at `max_depth`: its CBOR reader recurses once per nesting level.
class BoundedDom : public nlohmann::detail::json_sax_dom_parser<json> {
public:
    BoundedDom(json& out, int max_depth) : json_sax_dom_parser(out, true), max_depth_(max_depth) {}
    bool start_object(std::size_t n) { return enter() && json_sax_dom_parser::start_object(n); }
    bool end_object() { return --depth_, json_sax_dom_parser::end_object(); }
    bool start_array(std::size_t n) { return enter() && json_sax_dom_parser::start_array(n); }
    bool end_array() { return --depth_, json_sax_dom_parser::end_array(); }
    bool too_deep() const { return too_deep_; }

private:
    bool enter() {
        too_deep_ = ++depth_ > max_depth_;
        return !too_deep_;
    }
    int depth_ = 0, max_depth_;
    bool too_deep_ = false;
};

}  // namespace

std::string parse_bounded(std::string_view bytes, json::input_format_t format, int max_depth, json& out) {
    BoundedDom dom(out, max_depth);
    try {
        if (json::sax_parse(bytes.begin(), bytes.end(), &dom, format)) return "";
    } catch (const json::exception& e) {
        return e.what();
    }
    return dom.too_deep() ? fmt::format("nested deeper than {} levels", max_depth) : "damaged";
}

std::string describe(const json& v) {
    if (v.is_array()) return fmt::format("a list of {}", v.size());
    if (v.is_object()) return "an object";
    if (v.is_binary()) return "binary data";
    constexpr size_t kMax = 60;
    const std::string s = v.dump(-1, ' ', false, json::error_handler_t::replace);
    return s.size() <= kMax ? s : s.substr(0, kMax) + "...";
}

}  // namespace neuroemu
