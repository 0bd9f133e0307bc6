// `neuroemu list`: every family of interchangeable implementations, its implementations and their parameters,
// read from the registry (common/registry.h), so the listing cannot drift from the code.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include <memory>

#include "cli/commands.h"
#include "cli/output.h"
#include "cli/schema.h"

namespace neuroemu {
namespace {

std::string param_line(const ParamSpec& p) {
    return fmt::format("      {} ({}{}, default {}): {}", p.key, param_kind_name(p.kind),
                       p.unit.empty() ? "" : ", " + p.unit, p.default_yaml.empty() ? "unset" : p.default_yaml, p.help);
}

nlohmann::json family_json(const FamilyInfo& f) {
    nlohmann::json impls = nlohmann::json::array();
    for (const auto& i : f.implementations()) {
        nlohmann::json params = nlohmann::json::array();
        for (const auto& p : i.params)
            params.push_back({{"key", p.key}, {"type", param_kind_name(p.kind)}, {"unit", p.unit},
                              {"default", p.default_yaml}, {"meaning", p.help}});
        impls.push_back({{"name", i.name}, {"description", i.description}, {"params", params}});
    }
    return {{"family", f.name()}, {"key", f.key()}, {"description", f.description()}, {"implementations", impls}};
}

int run_list(const std::string& json_file) {
    nlohmann::json families = nlohmann::json::array();
    for (const FamilyInfo* f : registered_families()) {
        fmt::print("{} ({}): {}\n", f->name(), f->key().empty() ? "no key" : f->key(), f->description());
        for (const auto& i : f->implementations()) {
            fmt::print("  {}: {}\n", i.name, i.description);
            for (const auto& p : i.params) fmt::print("{}\n", param_line(p));
        }
        families.push_back(family_json(*f));
    }
    if (!json_file.empty()) write_json_file(json_file, {{"command", "list"}, {"families", families}});
    return 0;
}

}  // namespace

Command add_list_command(CLI::App& app, CommonOptions&) {
    CLI::App* cmd = app.add_subcommand("list", "the families of interchangeable implementations (placement, "
                                       "multicast, ...), their names and parameters");
    auto json_file = std::make_shared<std::string>();
    cmd->add_option("--json", *json_file, "also write the listing to FILE");
    return {cmd, [json_file] { return run_list(*json_file); }};
}

}  // namespace neuroemu
