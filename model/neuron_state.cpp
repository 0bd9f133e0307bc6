#include "model/neuron_state.h"

#include <fmt/format.h>

#include "common/error.h"

namespace neuroemu {

int state_updates(const std::string& model) {
    if (model == "if" || model == "lif" || model == "li" || model == "threshold") return 1;
    if (model == "cuba_lif" || model == "cuba_li") return 2;
    throw ModelError(fmt::format("neuron model '{}' is unknown (if, lif, cuba_lif, li, cuba_li, threshold)", model));
}

int state_updates(const Population& population) {
    switch (population.kind) {
        case PopulationKind::Input: return 0;
        case PopulationKind::IF: return state_updates(population.neuron.model);
        case PopulationKind::MaxGate:
        case PopulationKind::Current: return 1;
    }
    return 1;
}

int64_t neuron_updates_per_step(const SnnModel& model) {
    int64_t n = 0;
    for (const Population& p : model.populations) n += p.size() * state_updates(p);
    return n;
}

}  // namespace neuroemu
