// The two halves of the `.map` file (docs/mapping-format.md), shared by mapping/map_file.cpp only: the JSON
// header (everything but the per-core and per-source arrays) and the CBOR body (those arrays).
#pragma once

#include <cstdint>
#include <string>

#include "mapping/cbor_columns.h"
#include "mapping/json_reader.h"
#include "mapping/mapping.h"

namespace neuroemu {

// The header's fields that describe the mapping: model, chip, mesh, host, graph, layers (in file order).
nlohmann::ordered_json mapping_header(const Mapping& mapping);
// Reads those fields into `m`; `header` has passed the format and version checks.
void read_mapping_header(const JsonReader& r, const json& header, Mapping& mapping);

// Array lengths the header declares, so that the body is checked against them.
struct BodyCounts {
    int64_t cores = 0, sources = 0, destinations = 0;
};

std::string mapping_body(const Mapping& mapping);  // CBOR bytes
// Reads the cores, source packet rates and destinations into `m`.
void read_mapping_body(const JsonReader& r, const CborColumns& body, const BodyCounts& counts, Mapping& mapping);

}  // namespace neuroemu
