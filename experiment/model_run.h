// The first half of every experiment: the S-ResNet of a run (read from a .snn file or converted from the
// settings) and the functional engine's run over the test images. `evaluate`, `report` and explore's points all
// start here, so the load -> convert -> dataset -> engine sequence exists once.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "common/config.h"
#include "convert/convert_spec.h"
#include "data/idx_dataset.h"
#include "model/network.h"
#include "model/snn.h"
#include "nir/nir_import.h"
#include "sim/ann_engine.h"
#include "sim/snn_engine.h"

namespace neuroemu::experiment {

// The S-ResNet of a run: read from `snn_file` (`folded` = the ANN with BatchNorm folded, for comparisons), or
// converted from the settings (`report` filled; the compensation search printed unless verbosity is 0).
SnnModel snn_for_run(const Settings& settings, const Network& net, const std::string& snn_file, Network& folded,
                     ConversionReport& report, int verbosity);

// model.nir's import options (model.nir_dt_s, model.nir_discretisation, model.nir_reset).
nir::ImportOptions nir_import_options(const Settings& settings);
// The spiking network of model.nir, imported (ConfigError naming the key when the file does not exist; ModelError
// from the import naming the file and node).
SnnModel load_nir_model(const Settings& settings);

// The spiking network a command works on, without an ANN: `snn_file` when given, else model.nir, else the ANN
// converted from the settings (`calibrate`: normalised on the training images, as convert does; else the structure
// alone, the weights unnormalised, for a mapping with estimated rates).
SnnModel spiking_model(const Settings& settings, const std::string& snn_file, bool calibrate, int verbosity);

// The error fit and the ζ search of a compensated conversion, as `convert` and `evaluate` print them.
void print_compensation(const ConversionReport& report);

// What a run's test images were, without keeping them (50,000 ImageNet images do not fit in memory).
struct InputSummary {
    int64_t images = 0, channels = 0;
    double mean_pixel = 0;  // mean of pixel / 255 over every image (the Poisson input's firing rate)
    bool labelled = true;   // false: synthetic input, accuracy not meaningful
};

// Which of the test images one process reads: all of them, or under mpirun its rank's contiguous block
// (mpi::my_block; `images` and `mean_pixel` still describe all of them: a collective then).
enum class Shard { All, Rank };

// The first `count` test images of the settings' dataset (or this rank's block of them), in chunks of at most
// `chunk_bytes` of pixels, the next chunk decoded while `consume` works on the current one. Each chunk's
// ImageSet::first is its index in the dataset. Returns what they were.
InputSummary for_each_test_chunk(const Settings& settings, const std::vector<int64_t>& model_input, int64_t count,
                                 const std::function<void(const ImageSet&)>& consume, Shard shard = Shard::All,
                                 int64_t chunk_bytes = 64 << 20);

// Every rank's result merged in rank order, on every rank (exact: mpi/pack.h, common/exact_sum.h), as if one
// process had simulated all their images: `seconds` is the slowest rank's, the memory figures the largest
// rank's. The identity without mpirun. A collective: every rank calls it.
SnnResult merge_over_ranks(const SnnResult& mine);

// Everything the functional engine's run produced, with what it ran on.
struct FunctionalRun {
    bool has_ann = true;          // false for a NIR network (model.nir): no ANN, no conversion, `net` empty
    Network net;                  // the ANN as loaded
    Network folded;               // BatchNorm folded (the S-ResNet's reference)
    ConversionReport conversion;  // empty when the model came from a .snn file
    SnnModel model;
    InputSummary input;           // the dataset.images test images it ran on
    SnnOptions options;
    SnnResult result;
};

// Loads the model, converts it (or reads `snn_file`, or imports model.nir: no ANN then), and runs the functional engine on the test images; the
// ANN runs beside it when simulation.compare_ann is set. With Shard::Rank under mpirun a collective (every rank
// must call it): each rank converts the same model, simulates its block of the images, and holds the merged result
// (merge_over_ranks). Shard::All: this process alone simulates every image (a command that runs on rank 0 only).
// `configure`, when given, adjusts the engine's options once the model is known (probes, `evaluate --probe`).
FunctionalRun run_functional(const Settings& settings, const std::string& snn_file, int verbosity,
                             Shard shard = Shard::All,
                             const std::function<void(const SnnModel&, SnnOptions&)>& configure = nullptr);

// The float32 reference ANN's run over the test images (`evaluate --ann`).
struct AnnRun {
    Network net;
    InputSummary input;  // the dataset.images test images it ran on
    AnnOptions options;
    AnnResult result;
};
// With Shard::Rank under mpirun a collective like run_functional: images sharded, counts summed, logits in image
// order, seconds the slowest rank's.
AnnRun run_ann(const Settings& settings, int verbosity, Shard shard = Shard::All);

}  // namespace neuroemu::experiment
