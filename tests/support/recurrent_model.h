// A small spiking model with explicit (Sparse) and recurrent projections for the mapper and chip-model tests:
// input [2][4][4] -> a [3][4][4] cuba_lif population (Sparse, plus a Sparse self-recurrent projection) -> a [5]
// if population (Sparse), with a Sparse back projection from it onto the cuba_lif population (recurrent). The
// synapse lists are drawn from a seeded generator, so the model is the same in every run.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "tests/support/builders.h"
#include "model/snn.h"

namespace neuroemu::test {

// Source unit s reaches each target with probability `density` (ascending per source), weights 0.5.
inline Projection random_sparse(const std::string& name, int source, int target, int64_t sources, int64_t targets,
                                double density, uint32_t seed, bool recurrent = false) {
    std::mt19937 rng(seed);
    std::bernoulli_distribution keep(density);
    Projection p;
    p.name = name;
    p.kind = ProjectionKind::Sparse;
    p.source = source;
    p.target = target;
    p.recurrent = recurrent;
    p.sparse_ptr.push_back(0);
    for (int64_t s = 0; s < sources; ++s) {
        for (int64_t t = 0; t < targets; ++t)
            if (keep(rng)) p.sparse_target.push_back(static_cast<int32_t>(t));
        p.sparse_ptr.push_back(static_cast<int32_t>(p.sparse_target.size()));
    }
    p.weight = Tensor({static_cast<int64_t>(p.sparse_target.size())},
                      std::vector<float>(p.sparse_target.size(), 0.5f));
    return p;
}

// `linear_self`: the [5] population also reads itself through a recurrent Linear (dense) projection.
inline SnnModel recurrent_model(double density = 0.3, bool linear_self = false) {
    SnnModel m;
    m.name = "recurrent sparse";
    m.source_format = "nir";
    m.populations.push_back(input_pop({2, 4, 4}));
    Population hidden = if_pop("hidden", {3, 4, 4});
    hidden.neuron.model = "cuba_lif";
    hidden.neuron.tau_mem_s = {0.002f};  // dt / tau = 0.5: it fires within a few steps
    hidden.neuron.tau_syn_s = {0.002f};
    m.populations.push_back(hidden);
    m.populations.push_back(if_pop("out", {5}));
    // Grouped by target, in population order.
    m.projections.push_back(random_sparse("in->hidden", 0, 1, 32, 48, density, 1));
    m.projections.push_back(random_sparse("hidden->hidden", 1, 1, 48, 48, density, 2, true));
    m.projections.push_back(random_sparse("out->hidden", 2, 1, 5, 48, density, 3, true));
    m.projections.push_back(random_sparse("hidden->out", 1, 2, 48, 5, density, 4));
    if (linear_self) {
        Projection p;
        p.name = "out->out";
        p.kind = ProjectionKind::Linear;
        p.source = p.target = 2;
        p.recurrent = true;
        p.weight = Tensor({5, 5}, std::vector<float>(25, -0.25f));
        m.projections.push_back(p);
    }
    m.output = 2;
    m.dt_s = 0.001;  // cuba_lif steps
    return m;
}

}  // namespace neuroemu::test
