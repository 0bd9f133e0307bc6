#include "common/error.h"
#include "nir/nir_import.h"

namespace neuroemu::nir {
File export_graph(const SnnModel&) { throw ModelError("NIR export is not built yet"); }
void export_nir(const SnnModel& model, const std::string& path) { write_file(path, export_graph(model)); }
}  // namespace neuroemu::nir
