// NIR files (nir/nir_file.h read_file, then nir/nir_import.h import_graph): HDF5 needs a file. Limits lower than
// the defaults keep one input under libFuzzer's -rss_limit_mb (the defaults allow 2 GiB per dataset).
#include "common/error.h"
#include "fuzz/fuzz_target.h"
#include "nir/nir_file.h"
#include "nir/nir_import.h"

int neuroemu::fuzz::nir(const uint8_t* data, size_t size) {
    const std::string path = temp_file(data, size, ".nir");
    try {
        neuroemu::nir::ReadLimits limits;
        limits.max_values_per_dataset = int64_t(1) << 20;
        limits.max_total_values = int64_t(1) << 22;
        const neuroemu::nir::File file = neuroemu::nir::read_file(path, limits);
        neuroemu::nir::import_graph(file, path);
    } catch (const ModelError&) {
    } catch (const DataError&) {
    }
    return 0;
}
NEUROEMU_FUZZ_TARGET(nir)
