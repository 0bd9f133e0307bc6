// ANN -> S-ResNet conversion (paper §3): BN folding (Eq. 1), data-based normalisation (Eq. 2), shortcut
// normalisation (Eq. 4-6), IF neurons with bias currents, pooling as fixed synapses or spike gating.
// Error compensation (§3.3) lives in compensation.h, since it needs the spiking engine.
#pragma once

#include <map>
#include <vector>

#include "data/idx_dataset.h"
#include "model/network.h"
#include "model/snn.h"

namespace neuroemu {

// Eq. 1: every BatchNorm folded into the convolution before it (W~ = γW/σ, b~ = γ(b-μ)/σ + β, σ the standard
// deviation). Throws ModelError naming a BatchNorm that does not directly follow a convolution used only by it.
Network fold_batchnorm(const Network& net);

// Ids of the ANN layers whose outputs become populations: the input, every ReLU, AvgPool, GlobalAvgPool and
// MaxPool (a spike gate), and the output layer (the readout). Throws ModelError for a structure conversion
// cannot express (two weight layers with no neuron between them, a BatchNorm left unfolded, ...).
std::vector<int> population_layers(const Network& folded);

// λ per population layer: the p-th percentile of its positive activations over the calibration images,
// per layer and, when asked, per channel.
struct Calibration {
    double percentile = 99.9;
    int64_t images = 0;
    std::map<int, float> layer_lambda;                // ANN layer id -> λ
    std::map<int, std::vector<float>> channel_lambda;  // ANN layer id -> λ per channel (channel-wise only)
    std::map<int, float> layer_max;                    // ANN layer id -> largest activation seen
};

Calibration calibrate(const Network& folded, const ImageSet& images, const InputNormalisation& norm,
                      double percentile, bool channel_wise, int threads);

// How max pooling becomes spiking: the paper's spike gate, or (beyond the paper) pooling the input currents
// before the neuron.
enum class MaxPoolMode {
    Gate,     // pass only the spikes of each window's most active neuron so far (§3.2)
    Current,  // the pooled ReLU's neurons become current collectors; each pooled neuron integrates the largest
              // current in its window, max(relu(x)) = relu(max(x))
};

struct ConversionOptions {
    bool normalise = true;               // Eq. 2; off: λ = 1 everywhere (weights as trained)
    bool channel_wise = false;           // λ per channel instead of per layer (never for the readout)
    bool shortcut_normalisation = true;  // Eq. 4-6; off: identity shortcuts keep weight 1
    ResetMode reset = ResetMode::Subtract;
    bool spiking_readout = false;        // false: the output layer integrates without firing (membrane readout)
    float v_init = 0.0f;                 // beyond the paper: initial membrane potential, fraction of threshold
    bool channel_thresholds = false;     // beyond the paper: channel-wise λ carried by thresholds, not weights
    MaxPoolMode max_pool = MaxPoolMode::Gate;
};

// Builds the S-ResNet from a folded network and its calibration (unused when !options.normalise).
SnnModel build_snn(const Network& folded, const Calibration& calibration, const ConversionOptions& options);

// Multiplies every synaptic weight by zeta (Eq. 14); biases are currents, not synapses, and stay.
void scale_weights(SnnModel& model, double zeta);

}  // namespace neuroemu
