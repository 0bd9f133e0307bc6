// Functional spiking engine: exact time-stepped simulation of an S-ResNet (model/snn.h), one image at a time,
// images spread over threads. Each step every population, in order, adds its bias current, integrates the
// spikes its sources emitted in the same step (event-driven: work follows spikes; a recurrent projection delivers
// its source's spikes of the previous step), then its neuron model (sim/neuron/, docs/neuron-models.md) updates,
// fires and resets.
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

// The synaptic input events a faulty chip loses (chip.faults, docs/hardware-model.md "Faults";
// experiment/fault_losses.h decides them from the mapping exactly as the chip model does). With SnnOptions::losses
// set, the engine does not integrate those events, so its spikes, decisions and SOPs are the faulty chip's. The
// engine takes a slower path then (one spike at a time); without it nothing changes. Forces one thread.
class InputLosses {
public:
    virtual ~InputLosses() = default;
    // Step `step` (1-based) of image `image` (its index in the evaluated set) begins; may be called twice in a row
    // for step 1 (the constant-current input is integrated before it).
    virtual void begin_step(int64_t image, int64_t step) = 0;
    // The events population `pop` sends in this step: its spikes (pop 0: the input's), or with a constant-current
    // input the nonzero pixels, in step 1.
    virtual void sent(int pop, const SpikeEvent* events, size_t n) = 0;
    // Source unit `s` of projection `projection`'s source in this step: appends the target neurons it reaches that
    // do not integrate it (each once, [c][y][x] positions of the target population), and returns the synaptic
    // operations the chip does not perform for it (those of lost deliveries: a partial-sum unit that received the
    // spike performed them even when its own event is lost later).
    virtual int64_t lost(int projection, const SpikeEvent& s, std::vector<SpikeEvent>& targets) = 0;
    // Every population has stepped.
    virtual void end_step() = 0;
};

// A neuron whose membrane potential and spikes are recorded every step (`--probe POP:NEURON`): the population's
// index and the neuron's flat [C][H][W] index in it.
struct ProbeSpec {
    int pop = -1;
    int64_t neuron = 0;
};

// What the probes recorded for one image, step by step: after step t (1-based), entry (t - 1) x probes + k.
struct ProbeTrace {
    std::vector<ProbeSpec> probes;
    int64_t image = -1;               // the image recorded (its index in the evaluated set); -1: none
    std::vector<float> v;             // membrane potential at the end of the step (after any reset)
    std::vector<float> i_syn;         // synaptic current at the end of the step (cuba_lif, cuba_li; else 0)
    std::vector<uint8_t> spiked;      // 1 when the neuron fired in the step
    int64_t steps() const { return probes.empty() ? 0 : static_cast<int64_t>(v.size() / probes.size()); }
};

struct SnnOptions {
    int64_t steps = 100;  // in [1, kMaxSnnSteps]
    std::vector<ProbeSpec> probes;  // recorded for image `probe_image` of the set (SnnResult::probe)
    int64_t probe_image = 0;
    std::shared_ptr<const InputEncoding> encoding = make_input_encoding(kDefaultInputEncoding);  // sim/encoding/
    uint64_t seed = 1;
    int threads = 0;  // 0 = all hardware threads
    SpikeObserver* observer = nullptr;  // not owned; forces one thread
    InputLosses* losses = nullptr;      // not owned; chip.faults: the input events not integrated; one thread
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
    ProbeTrace probe;                      // SnnOptions::probes, when given
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
    friend class SnnStepper;
    struct PreparedModel;  // the model laid out for simulation: geometry, reordered weights, thresholds
    std::unique_ptr<PreparedModel> prepared_;
};

// One network stepped a tick at a time with input spikes given from outside (`neuroemu serve`): the step of
// SnnEngine::evaluate (the same code) on the engine's prepared weights, with spiking input only (a constant-
// current encoding needs the analog image). Stepping a network with the spikes the `poisson` encoding draws for
// an image reproduces evaluate()'s decisions, spikes and SOPs for that image exactly. Not thread-safe; the engine
// must outlive it.
class SnnStepper {
public:
    // `encoding`: the configured input encoding, checked to be spiking (ConfigError naming simulation.encoding).
    explicit SnnStepper(const SnnEngine& engine, const InputEncoding* encoding = nullptr);
    ~SnnStepper();
    SnnStepper(const SnnStepper&) = delete;
    SnnStepper& operator=(const SnnStepper&) = delete;

    // Membranes to v_init x threshold, spike counts to zero: the next step is step 1 of a new window.
    void reset();
    // Runs the next step with the input neurons `input_hwc` ([H][W][C] indices of the input population,
    // ascending; an index given k times spikes k times) and returns the readout's decision. Throws DataError for
    // an index out of range or out of order, and DataError after kMaxSnnSteps steps since the last reset (the
    // counts are 16-bit: reset first). `observer` sees the step as evaluate()'s observer does, with image =
    // windows() - 1; step_done's label_hit compares the decision with `label` (false when label < 0). An input
    // neuron's own count (counts(0)) wraps past 65535 spikes in a window, which only a max gate over the input reads.
    int64_t step(const int32_t* input_hwc, size_t n, SpikeObserver* observer = nullptr, int64_t label = -1);

    const SnnModel& model() const;
    int64_t steps() const;     // since the last reset
    int64_t windows() const;   // resets so far (the constructor's included)
    int64_t decision() const;  // the readout's decision after the last step; -1 before the first
    // Of the last step: units of population `pop` that fired (input: one per spike; max_gate: spikes let through)
    size_t spike_count(int pop) const;
    // ... and which, as [c][y][x] positions in the population's [H][W][C] order (`out` replaced).
    void spikes(int pop, std::vector<SpikeEvent>& out) const;
    // ... and the synaptic operations per projection (SnnResult::projections order), and their sum.
    const std::vector<int64_t>& projection_sops() const;
    int64_t sops() const;
    // The readout after the last step, per output unit in [C][H][W] order: membrane potentials, or spike counts
    // when the output population fires (what decision() ranks first). `out` replaced.
    void readout(std::vector<float>& out) const;
    // Spikes per unit of population `pop` since the last reset, in [C][H][W] order. `out` replaced.
    void counts(int pop, std::vector<int32_t>& out) const;
    // The membrane potential and synaptic current (0 for models without one) of neuron `neuron` ([C][H][W]
    // index) of population `pop` after the last step.
    float potential(int pop, int64_t neuron) const;
    float synaptic_current(int pop, int64_t neuron) const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace neuroemu
