// The `.map` file's body read without a DOM (docs/mapping-format.md): a CBOR map of sections, each a map of
// lists of scalars ("cores" -> "synapses" -> [...]). A general JSON tree of a million numbers costs several times
// the decoding; the body's fixed shape needs only its lists.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "mapping/json_reader.h"

namespace neuroemu {

// Section name -> column name -> the column's values (numbers, or whatever scalar the file holds there).
using CborColumns = std::map<std::string, std::map<std::string, std::vector<json>>>;

// Decodes `cbor` into `out`. Returns "" or what is wrong, starting with where ("cores.x[3]: expected a number,
// found a list", "not valid CBOR: ..."); never nests deeper than the shape allows.
std::string parse_cbor_columns(std::string_view cbor, CborColumns& out);

}  // namespace neuroemu
