// Functional spiking engine: exact time-stepped simulation of an S-ResNet (model/snn.h), one image at a time,
// images spread over threads. Each step every population, in order, adds its bias current, integrates the
// spikes its sources emitted in the same step (event-driven: work follows spikes), then fires and resets.
// Counts what the energy model and mapper consume: spikes and synaptic operations (SOPs: one synapse reached by
// one spike) per population and projection.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/exact_sum.h"
#include "data/idx_dataset.h"
#include "model/network.h"
#include "model/snn.h"
#include "sim/encoding/encoding.h"

namespace neuroemu {

class Progress;

// The most time steps one simulation may run: spike counts are 16-bit (sim/snn_engine.cpp).
constexpr int64_t kMaxSnnSteps = 65535;

// A neuron that fired: its population position [c][y][x] (a vector population: c = index, y = x = 0).
struct SpikeEvent {
    int32_t c = 0, y = 0, x = 0;
};

// Sees every spike as the engine produces it (the hardware model replays them on the chip). Images run one at a
// time, in order, on one thread when an observer is set.
class SpikeObserver {
public:
    virtual ~SpikeObserver() = default;
    // The spikes population `pop` emitted in `step` (1-based) of `image`: after its neurons fired (IF), after
    // the gate let them through (max_gate), or the input's Poisson spikes (pop 0). Called in population order.
    virtual void spikes(int64_t image, int64_t step, int pop, const SpikeEvent* events, size_t n) = 0;
    // Every population has stepped; `label_hit` says whether the readout's decision at this step is right.
    virtual void step_done(int64_t image, int64_t step, bool label_hit) = 0;
    // The synaptic operations projection `projection` (SnnResult::projections order) performed in `step`; their
    // sum over the steps is that projection's ProjectionStats::sops. Constant-current input projections are not
    // stepped (their one-off MACs are SnnResult::input_macs).
    virtual void projection_sops(int64_t /*image*/, int64_t /*step*/, int /*projection*/, int64_t /*sops*/) {}
};

struct SnnOptions {
    int64_t steps = 100;  // in [1, kMaxSnnSteps]
    std::shared_ptr<const InputEncoding> encoding = make_input_encoding(kDefaultInputEncoding);  // sim/encoding/
    uint64_t seed = 1;
    int threads = 0;  // 0 = all hardware threads
    SpikeObserver* observer = nullptr;  // not owned; forces one thread
};

struct PopulationStats {
    std::string name;
    std::string kind;             // "input", "if", "max_gate"
    int64_t neurons = 0;
    int64_t units = 0;            // the population's size (neurons of any kind), for rates
    int64_t spikes = 0;           // over all images and steps (max_gate: spikes let through)
    int64_t sops_in = 0;          // synaptic events this population's neurons received
    int64_t sops_out = 0;         // synaptic events its spikes caused downstream
    double firing_rate = 0;       // spikes per neuron per step
    double max_rate = 0;          // the most active neuron's spikes per step, over all images
    // Propagation error at the last step (paper §3.3), averaged over images; needs the ANN:
    double local_error = 0;       // E = V(T)/T (membrane not yet turned into spikes), mean over neurons
    double accumulated_error = 0; // Ē = a/λ - r(T), mean over neurons
    double accumulated_error_max_neuron = 0;  // Ē of each image's most active neuron (the paper's Fig. 4)
    double rate_error_abs = 0;    // mean |a/λ - r(T)|
    bool has_error = false;
    // The per-image values those means divide by the images: exact sums, so that the means are bit-identical
    // however the images were split over threads, chunks and ranks.
    ExactSum local_error_sum, accumulated_error_sum, accumulated_error_max_neuron_sum, rate_error_abs_sum;

    // Sets the means from the sums (`images` > 0).
    void set_error_means(int64_t images);
};

struct ProjectionStats {
    std::string name;
    int source = -1, target = -1;
    int64_t synapses = 0;
    int64_t sops = 0;
};

struct SnnResult {
    int64_t images = 0;
    int64_t steps = 0;
    std::vector<int64_t> correct_at_step;  // [t-1]: images classified right after t steps
    int64_t ann_correct = -1;              // the ANN on the same images (when given)
    std::vector<PopulationStats> populations;
    std::vector<ProjectionStats> projections;
    int64_t sops = 0;                      // total over images and steps
    int64_t spikes = 0;                    // IF neurons only
    int64_t input_macs = 0;                // constant-current input: multiply-accumulates, once per image
    bool labelled = true;                  // false: synthetic input, accuracy is not meaningful
    // Memory: what each worker holds (the largest; bounded by the model's size, not by the images or steps) and
    // the weights all workers share. Peak use is about weight_bytes + workers x worker_state_bytes.
    int workers = 0;
    int64_t worker_state_bytes = 0, weight_bytes = 0;
    double seconds = 0;
    double accuracy(int64_t t) const {
        return images ? static_cast<double>(correct_at_step.at(static_cast<size_t>(t - 1))) / static_cast<double>(images) : 0.0;
    }
};

// Adds the run `part` (other images, same model and steps) to `total`, as if both had been one run: counts and
// error sums add, rates and means are recomputed from them. Order-independent except for `seconds` (summed) and
// the per-worker memory figures (largest), so chunks, threads and ranks give identical results.
void accumulate(SnnResult& total, const SnnResult& part);

class SnnEngine {
public:
    explicit SnnEngine(const SnnModel& model);
    ~SnnEngine();
    SnnEngine(const SnnEngine&) = delete;
    SnnEngine& operator=(const SnnEngine&) = delete;

    // Simulates images [0, set.count). With `ann` (the folded network the model came from), also runs the ANN
    // on each image for its accuracy and the per-population propagation error (populations matched by name).
    SnnResult evaluate(const ImageSet& set, const InputNormalisation& norm, const SnnOptions& options,
                       Progress* progress = nullptr, const Network* ann = nullptr) const;

    const SnnModel& model() const;

private:
    struct PreparedModel;  // the model laid out for simulation: geometry, reordered weights, thresholds
    std::unique_ptr<PreparedModel> prepared_;
};

}  // namespace neuroemu
