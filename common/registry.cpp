#include "common/registry.h"

#include <algorithm>

namespace neuroemu {

std::vector<std::string> FamilyInfo::names() const {
    std::vector<std::string> out;
    for (const auto& i : implementations()) out.push_back(i.name);
    return out;
}

bool FamilyInfo::has(const std::string& name) const {
    const auto all = names();
    return std::find(all.begin(), all.end(), name) != all.end();
}

ParamSpec FamilyInfo::selector(const std::string& default_name) const {
    if (!has(default_name))
        throw InternalError(fmt::format("{}: default '{}' is not registered", name_, default_name));
    std::string help = description_;
    for (const auto& i : implementations()) help += fmt::format(" `{}`: {}", i.name, i.description);
    return ParamSpec(key_, ParamKind::Enum, default_name, "", help).one_of(names());
}

namespace {

bool same_declaration(const ParamSpec& a, const ParamSpec& b) {
    return a.kind == b.kind && a.default_yaml == b.default_yaml && a.unit == b.unit && a.help == b.help &&
           a.min == b.min && a.max == b.max && a.choices == b.choices && a.min_items == b.min_items &&
           a.max_items == b.max_items;
}

}  // namespace

std::vector<ParamSpec> FamilyInfo::params() const {
    std::vector<ParamSpec> out;
    for (const auto& i : implementations())
        for (const auto& p : i.params) {
            const auto seen = std::find_if(out.begin(), out.end(), [&](const ParamSpec& q) { return q.key == p.key; });
            if (seen == out.end()) {
                out.push_back(p);
            } else if (!same_declaration(*seen, p)) {
                throw InternalError(fmt::format("{}: '{}' declared differently by two implementations", name_, p.key));
            }
        }
    return out;
}

std::string FamilyInfo::unknown(const std::string& name) const {
    const std::string best = closest_name(name, names());
    return fmt::format("unknown {} '{}'{}; registered: {}", name_, name,
                       best.empty() ? "" : fmt::format(" (did you mean '{}'?)", best), fmt::join(names(), ", "));
}

}  // namespace neuroemu
