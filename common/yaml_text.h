// How configuration and sweep errors name a YAML place and a YAML value (yaml-cpp nodes), so that every file
// neuroemu reads reports them the same way.
#pragma once

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <string>

namespace neuroemu {

// "file:line:column", 1-based.
inline std::string yaml_at(const std::string& file, const YAML::Mark& m) {
    return fmt::format("{}:{}:{}", file, m.line + 1, m.column + 1);
}

// What a node holds, for "expected X, got Y" messages.
inline std::string yaml_describe(const YAML::Node& node) {
    if (!node.IsDefined() || node.IsNull()) return "nothing (null)";
    if (node.IsSequence()) return "a list";
    if (node.IsMap()) return "a mapping";
    return fmt::format("'{}'", node.Scalar());
}

}  // namespace neuroemu
