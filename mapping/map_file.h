// The mapping file (`neuroemu map -o FILE`, loaded by `neuroemu simulate`): a version line, a JSON header (the
// chip, the mesh, the layers, the counts) and a CBOR body (the per-core and per-source arrays), specified in
// docs/mapping-format.md.
#pragma once

#include <string>

#include "mapping/mapping.h"

namespace neuroemu {

constexpr int kMappingFormatVersion = 2;

// Validates `m` first (a mapping the reader would refuse is never written); DataError naming the file when it
// cannot write.
void save_mapping(const Mapping& mapping, const std::string& path);
// Throws DataError naming the file, the record and field, and what was expected; checks every type, index and
// count before using it (a loaded mapping satisfies validate_mapping).
Mapping load_mapping(const std::string& path);

// Consistency of a mapping: the chip's fields in their ranges, every core in the mesh at a distinct position,
// layers' core ranges cover the cores once, slices inside their layer, routes sorted and in range. Throws
// DataError starting with `where`.
void validate_mapping(const Mapping& mapping, const std::string& where);

}  // namespace neuroemu
