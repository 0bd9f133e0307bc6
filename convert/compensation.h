// Error compensation (paper §3.3): measure the accumulated propagation error per layer, fit Ē = p·q^l
// (Eq. 12), and search ζ step-wise around q within (1, τ_max) on training images; W' = W·ζ (Eq. 14).
#pragma once

#include <vector>

#include "data/idx_dataset.h"
#include "model/network.h"
#include "model/snn.h"
#include "sim/snn_engine.h"

namespace neuroemu {

// Least-squares fit of log Ē = log p + l log q over the spiking layers (l = 1, 2, ... in order) with Ē > 0.
struct ErrorFit {
    std::vector<double> depth, error;  // the points fitted
    double p = 0, q = 0;
    double r2 = 0, adj_r2 = 0;         // goodness of fit of p·q^l against Ē, in Ē's own scale
    bool ok = false;                   // at least three usable points
};
// Ē per spiking layer (the most active neuron's, as the paper's Fig. 4) from a run made with the ANN.
ErrorFit fit_error_growth(const SnnModel& model, const SnnResult& run);
ErrorFit fit_exponential(const std::vector<double>& depth, const std::vector<double>& error);

// What the ζ search minimises or maximises on the training subset.
enum class ZetaObjective {
    Accuracy,  // top-1 after the trial's steps (ties: the smaller ζ)
    Error,     // Eq. 13: the network's propagation error, mean |a/λ − r| over its spiking neurons (ties: accuracy)
};

struct CompensationOptions {
    bool enabled = false;
    ZetaObjective objective = ZetaObjective::Accuracy;
    double zeta = 0;          // > 0: use this ζ, no search
    int64_t images = 500;     // training images for the fit and the search
    int64_t steps = 100;      // time steps per trial (the CLI default: simulation.steps)
    double step = 0.01;       // ζ grid spacing
    int candidates = 5;       // grid points each side of q
    int max_extra_steps = 20; // steps past the grid's top while the top keeps winning
};

struct ZetaTrial {
    double zeta = 1;
    double accuracy = 0;      // on the training subset after `steps`
    double error = -1;        // mean |a/λ − r| over all spiking neurons (-1: not measured)
};
struct ZetaSearch {
    double tau_max = 0;       // 1 / (largest firing rate of the last spiking layer)
    std::vector<ZetaTrial> trials;  // ζ = 1 first
    double best = 1;
};

// The network's propagation error in a run that measured it: mean |a/λ − r| over all spiking IF neurons
// (populations weighted by size); -1 when the run did not measure it.
double network_rate_error(const SnnModel& model, const SnnResult& run);

// Runs the search (or takes options.zeta) and returns the chosen ζ; `fit` and `baseline` (a run with the ANN
// given, so that it measured the error) must come from the same model; `ann` is that ANN, which the Error
// objective needs for every trial.
ZetaSearch search_zeta(const SnnModel& model, const ImageSet& train,
                       const InputNormalisation& norm, const SnnOptions& sim, const CompensationOptions& options,
                       const ErrorFit& fit, const SnnResult& baseline, const Network* ann = nullptr);

}  // namespace neuroemu
