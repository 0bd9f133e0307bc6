#include "report/render.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "common/error.h"
#include "common/file_io.h"
#include "report/document.h"
#include "report/renderers.h"

namespace neuroemu::report {
namespace {

// read_report checks every type before reading; this turns anything it missed into the same kind of error.
template <typename Render>
auto checked(const nlohmann::json& doc, Render render) {
    try {
        return render(read_report(doc));
    } catch (const nlohmann::json::exception& e) {
        throw DataError(fmt::format("report document: {}", e.what()));
    }
}


}  // namespace

std::string html(const nlohmann::json& doc) {
    return checked(doc, [](const Report& r) { return render_html(r); });
}

std::string markdown(const nlohmann::json& doc) {
    return checked(doc, [](const Report& r) { return render_markdown(r); });
}

std::vector<std::pair<std::string, std::string>> csv_files(const nlohmann::json& doc) {
    return checked(doc, [](const Report& r) { return render_csv(r); });
}

void write_report(const nlohmann::json& doc, const std::string& dir) {
    std::vector<std::pair<std::string, std::string>> files = checked(doc, [](const Report& r) {
        std::vector<std::pair<std::string, std::string>> out = {{"report.html", render_html(r)},
                                                                {"report.md", render_markdown(r)}};
        for (auto& csv : render_csv(r)) out.push_back(std::move(csv));
        return out;
    });
    // NaN and infinities become null, as JSON has no other spelling for them; bad UTF-8 is replaced, not fatal.
    files.insert(files.begin(),
                 {"report.json", doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n"});
    std::error_code error;
    std::filesystem::create_directories(dir, error);
    if (error) throw ConfigError(fmt::format("cannot create the report directory {}: {}", dir, error.message()));
    if (!std::filesystem::is_directory(dir, error))
        throw ConfigError(fmt::format("cannot create the report directory {}: {}", dir, std::strerror(ENOTDIR)));
    for (const auto& [name, content] : files) write_file_atomic((std::filesystem::path(dir) / name).string(), content);
}

}  // namespace neuroemu::report
