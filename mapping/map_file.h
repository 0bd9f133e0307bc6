// The mapping file (`neuroemu map -o FILE`, loaded by `neuroemu simulate`): a versioned, line-oriented text
// format specified in docs/mapping-format.md.
#pragma once

#include <string>

#include "mapping/mapping.h"

namespace neuroemu {

constexpr int kMappingFormatVersion = 1;

void save_mapping(const Mapping& m, const std::string& path);  // DataError naming the file when it cannot write
// Throws DataError naming the file, the line and what was expected; checks every index and count (a loaded
// mapping satisfies validate_mapping).
Mapping load_mapping(const std::string& path);

// Consistency of a mapping: every core in the mesh at a distinct position, layers' core ranges cover the cores
// once, slices inside their layer, routes sorted and in range. Throws DataError starting with `where`.
void validate_mapping(const Mapping& m, const std::string& where);

}  // namespace neuroemu
