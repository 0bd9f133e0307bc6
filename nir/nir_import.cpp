#include "nir/nir_import.h"

#include "common/error.h"

namespace neuroemu::nir {

SnnModel import_graph(const File&, const std::string& path, const ImportOptions&) {
    throw ModelError(path + ": NIR import is not built yet");
}
SnnModel import_nir(const std::string& path, const ImportOptions& options) { return import_graph(read_file(path), path, options); }
File export_graph(const SnnModel&) { throw ModelError("NIR export is not built yet"); }
void export_nir(const SnnModel& model, const std::string& path) { write_file(path, export_graph(model)); }

}  // namespace neuroemu::nir
