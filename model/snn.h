// The spiking network (S-ResNet) that conversion produces and every later stage consumes: populations of
// integrate-and-fire neurons joined by projections (synapse groups). Saved as a `.snn` file; the format is
// specified in docs/snn-format.md.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/network.h"
#include "model/tensor.h"

namespace neuroemu {

enum class PopulationKind {
    Input,    // the encoded image: constant current (analog pixels) or Poisson spikes
    IF,       // integrate-and-fire neurons
    MaxGate,  // max pooling by spike gating: passes the spikes of the window's most active input so far
    Current,  // a current collector: each step its potential is that step's input current (synapses + bias);
              // it never fires, and only max_pool projections read it (max pooling before the neuron)
};

enum class ResetMode { Subtract, Zero };

// A group of neurons standing for one ANN activation (a ReLU output, a pooling output, the logits).
struct Population {
    std::string name;             // the ANN layer whose activation it approximates
    PopulationKind kind = PopulationKind::IF;
    std::vector<int64_t> shape;   // [C, H, W] or [N]
    std::vector<float> lambda;    // normalisation scale per channel (size 1: layer-wise); rate x lambda = activation
    std::vector<float> threshold; // firing threshold per channel (size 1: all channels)
    std::vector<float> bias;      // constant input current per channel each step, or empty
    bool spiking = true;          // false: a readout that only integrates (never fires, never resets)
    int gate_source = -1;         // MaxGate: the population whose spikes are gated
    Window2d gate_window;         // MaxGate: the pooling window

    int64_t channels() const { return shape.empty() ? 0 : shape[0]; }
    int64_t size() const { return shape_numel(shape); }
    float threshold_of(int64_t c) const { return threshold.size() == 1 ? threshold[0] : threshold[static_cast<size_t>(c)]; }
    float lambda_of(int64_t c) const { return lambda.size() == 1 ? lambda[0] : lambda[static_cast<size_t>(c)]; }
};

enum class ProjectionKind {
    Conv,      // weight [Cout][Cin][kh][kw], window
    Identity,  // one synapse per neuron, source and target same shape; weight [C] per channel
    AvgPool,   // fixed synapses 1/area x weight[c]; weight [C]; window and count_include_pad as PyTorch
    Linear,    // weight [out][in]; the source is read flattened in [C][H][W] order
    MaxPool,   // from a Current population: each step a target gets weight[c] x the largest current in its
               // window (PyTorch max pooling; padding never wins); weight [C]; window
};

// Synapses from every neuron of `source` onto `target`.
struct Projection {
    std::string name;      // the ANN layer it comes from
    ProjectionKind kind = ProjectionKind::Conv;
    int source = -1, target = -1;
    Tensor weight;
    Window2d window;              // Conv, AvgPool, MaxPool
    bool count_include_pad = false;  // AvgPool
    bool shortcut = false;        // the shortcut branch of a residual block
};

// Facts about how the model was made, kept for reports and reproducibility.
struct ConversionRecord {
    std::string source_model;     // the ANN it was converted from
    double percentile = 99.9;
    int64_t calibration_images = 0;
    bool channel_wise = false;
    bool shortcut_normalisation = true;
    double zeta = 1.0;            // error compensation factor applied to all weights (Eq. 14)
    double fit_p = 0, fit_q = 0, fit_adj_r2 = 0;  // Ē = p·q^l (Eq. 12), when measured
};

struct SnnModel {
    static constexpr int kFormatVersion = 1;
    std::string name;
    std::vector<Population> populations;  // topological order; populations[0] is the input
    std::vector<Projection> projections;  // grouped by target, in population order
    int output = -1;                       // the readout population
    ResetMode reset = ResetMode::Subtract;
    float v_init = 0.0f;                   // initial membrane potential as a fraction of the threshold
    ConversionRecord record;

    // Projections whose target is `pop`.
    std::vector<int> inputs_of(int pop) const;
    // Total synapses (one per source-target neuron pair that a projection connects).
    int64_t synapse_count() const;
};

// Synapses of one projection (exact, borders included).
int64_t synapse_count(const SnnModel& model, const Projection& p);

// Checks every index, shape and size; throws ModelError naming the population or projection.
void validate(const SnnModel& model, const std::string& where);

void save_snn(const SnnModel& model, const std::string& path);
SnnModel load_snn(const std::string& path);  // ModelError naming the file and what is wrong

const char* to_string(PopulationKind k);
const char* to_string(ProjectionKind k);

}  // namespace neuroemu
