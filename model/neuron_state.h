// How many state variables each neuron model updates per neuron per time step, where the engine (sim/neuron/),
// the chip model (hw/) and the energy model's estimate (experiment/ -> energy/) all see it: one neuron update is
// one state variable of one neuron in one step (docs/energy.md).
#pragma once

#include <cstdint>
#include <string>

#include "model/snn.h"

namespace neuroemu {

// `if`, `lif`, `li`, `threshold`: 1 (the membrane); `cuba_lif`, `cuba_li`: 2 (synaptic current and membrane).
// Throws ModelError naming the model for a word it does not know.
int state_updates(const std::string& model);

// State variables a population's units update each step: `state_updates(neuron.model)` for IF-kind populations,
// 1 for the other kinds (a gate's counters, a current collector), 0 for the input.
int state_updates(const Population& population);

// Neuron updates of one step of the whole model: sum over populations of size x state_updates.
int64_t neuron_updates_per_step(const SnnModel& model);

// The least memory one simulated neuron takes in the engine and the chip model: two float32 state variables, the
// float32 input it accumulates and the 16-bit spike count, rounded up. Inputs are checked with it against the
// memory budget (common/memory_limit.h) before anything is allocated per neuron.
constexpr int64_t kNeuronStateBytes = 16;

}  // namespace neuroemu
