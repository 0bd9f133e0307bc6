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
    IF,       // neurons: integrate-and-fire for a converted S-ResNet, or the model `neuron.model` names
              // (sim/neuron/: if, lif, cuba_lif, li, cuba_li, threshold); ".snn" keeps the word "if"
    MaxGate,  // max pooling by spike gating: passes the spikes of the window's most active input so far
    Current,  // a current collector: each step its potential is that step's input current (synapses + bias);
              // it never fires, and only max_pool projections read it (max pooling before the neuron)
};

// After a spike: v <- v - threshold (the paper's), v <- 0, or v <- v_reset (NIR's IF, LIF and CubaLIF).
enum class ResetMode { Subtract, Zero, ToValue };

// How the time-continuous neuron models (NIR's LIF, CubaLIF, LI, CubaLI) become steps of dt (docs/nir.md):
// forward Euler, as snnTorch, Norse and Sinabs step them and derive their exported time constants from, or the
// exact solution of the linear ODE over a step with the step's input held (zero-order hold; LIF and LI only).
enum class Discretisation { Euler, Exact };

// The neuron model of a population and the parameters beyond threshold and bias. Each parameter vector is
// empty (the model's default, below), one value (every neuron) or one per channel. Units: time constants in
// seconds, potentials in the threshold's units, `r` in potential per unit of input current.
struct NeuronParams {
    std::string model = "if";       // an implementation of the `neuron` family (sim/neuron/)
    std::vector<float> tau_mem_s;   // lif, li, cuba_lif, cuba_li: membrane time constant (no default)
    std::vector<float> tau_syn_s;   // cuba_lif, cuba_li: synaptic time constant (no default)
    std::vector<float> r;           // resistance (default 1)
    std::vector<float> v_leak;      // leak (resting) potential (default 0)
    std::vector<float> v_reset;     // ResetMode::ToValue: the potential after a spike (default 0)
    std::vector<float> w_in;        // cuba_lif, cuba_li: weight of the input into the synaptic current (default 1)
    bool operator==(const NeuronParams& o) const {
        return model == o.model && tau_mem_s == o.tau_mem_s && tau_syn_s == o.tau_syn_s && r == o.r &&
               v_leak == o.v_leak && v_reset == o.v_reset && w_in == o.w_in;
    }
};

// A group of neurons standing for one ANN activation (a ReLU output, a pooling output, the logits).
struct Population {
    std::string name;             // the ANN layer whose activation it approximates
    PopulationKind kind = PopulationKind::IF;
    std::vector<int64_t> shape;   // [C, H, W] or [N]
    std::vector<float> lambda;    // normalisation scale per channel (size 1: layer-wise); rate x lambda = activation
    std::vector<float> threshold; // firing threshold per channel (size 1: all channels)
    std::vector<float> bias;      // constant input current per channel each step, or empty
    bool spiking = true;          // false: a readout that only integrates (never fires, never resets)
    NeuronParams neuron;          // IF kind: the neuron model and its parameters (default: `if`, none)
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
    Sparse,    // explicit synapses (what no other kind says: dilated or grouped convolutions, Conv1d, chains of
               // linear operators composed): source neuron s (flat [C][H][W] index) reaches targets
               // sparse_target[k] (flat [C][H][W]) with weight.data[k] for k in [sparse_ptr[s], sparse_ptr[s+1]);
               // weight [nnz]
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
    // Recurrent: the spikes of step t arrive in step t + 1 (a cycle in a NIR graph, as the frameworks deliver
    // it). Only a recurrent projection may have source >= target; it may also have source < target.
    bool recurrent = false;
    std::vector<int32_t> sparse_ptr;     // Sparse: per source neuron, size source.size() + 1
    std::vector<int32_t> sparse_target;  // Sparse: per synapse, ascending within one source neuron
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
    static constexpr int kFormatVersion = 1;     // what a model using none of version 2's fields is written as
    static constexpr int kFormatVersionMax = 2;  // neuron models, sparse and recurrent projections (docs/snn-format.md)
    std::string name;
    std::vector<Population> populations;  // topological order; populations[0] is the input
    std::vector<Projection> projections;  // grouped by target, in population order
    int output = -1;                       // the readout population
    ResetMode reset = ResetMode::Subtract;
    float v_init = 0.0f;                   // initial membrane potential as a fraction of the threshold
    // A neuron fires when v >= threshold (false: the converted S-ResNet, paper §3.1) or v > threshold (true:
    // NIR's definition, z = H(v - v_threshold) with H(0) = 0).
    bool fire_above = false;
    double dt_s = 0;                       // the time step of time-continuous models in seconds; 0 when none
    Discretisation discretisation = Discretisation::Euler;
    std::string source_format = "onnx";    // what it was made from: "onnx" (converted) or "nir" (imported)
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

// The .snn format version save_snn writes for `model`: 1 (the bytes of every earlier neuroemu) unless it uses a
// field of version 2 (a neuron model or its parameters, reset to_value, fire_above, dt_s, exact discretisation,
// a source format other than "onnx", sparse or recurrent projections).
int snn_format_version(const SnnModel& model);

void save_snn(const SnnModel& model, const std::string& path);
SnnModel load_snn(const std::string& path);  // ModelError naming the file and what is wrong

const char* to_string(PopulationKind k);
const char* to_string(ProjectionKind k);
const char* to_string(ResetMode m);
const char* to_string(Discretisation d);

}  // namespace neuroemu
