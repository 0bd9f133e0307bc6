#include "nir/nir_file.h"

#include "common/error.h"

namespace neuroemu::nir {

const Node* Graph::find(const std::string& name) const {
    for (const Node& n : nodes)
        if (n.name == name) return &n;
    return nullptr;
}

File read_file(const std::string& path, const ReadLimits&) { throw ModelError(path + ": NIR reading is not built yet"); }
void write_file(const std::string& path, const File&) { throw ModelError(path + ": NIR writing is not built yet"); }

}  // namespace neuroemu::nir
