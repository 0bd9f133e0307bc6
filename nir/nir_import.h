// NIR graphs as neuroemu's spiking network (model/snn.h) and back (docs/nir.md).
//
// Import: the Input node becomes population 0; every neuron node (IF, LIF, CubaLIF, LI, CubaLI, I, Threshold)
// becomes a population with its model (sim/neuron/); every path of linear nodes (Affine, Linear, Conv1d,
// Conv2d, SumPool2d, AvgPool2d, Flatten, Scale) from one population to another becomes a projection (a native
// kind where one says it exactly, else the chain composed into explicit `Sparse` synapses); several edges into
// one node sum; nested NIRGraph nodes are flattened; an edge closing a cycle is recurrent (its spikes arrive one
// step later). Export: the inverse, with neuroemu's semantics that NIR cannot say kept as documented metadata.
#pragma once

#include <string>

#include "model/snn.h"
#include "nir/nir_file.h"

namespace neuroemu::nir {

struct ImportOptions {
    double dt_s = 1e-4;                                    // the time step of the time-continuous models
    Discretisation discretisation = Discretisation::Euler;
    // Overrides NIR's reset (to v_reset) for every population, e.g. ResetMode::Subtract for snnTorch networks
    // trained with reset by subtraction (NIR 1.0 cannot say it). Unset: NIR's reset, or the neuroemu metadata's.
    bool override_reset = false;
    ResetMode reset = ResetMode::ToValue;
};

// A NIR graph (read_file) as a spiking network. Throws ModelError naming the file, the node, its type and
// what is unsupported (e.g. "node '4' (Conv2d): padding [1, 2, 3] has 3 values, expected 2"; "node 'd'
// (Delay): not supported"), for a graph the reference library would reject (missing parameter, shapes that do
// not agree along an edge) as for one neuroemu cannot run.
SnnModel import_graph(const File& file, const std::string& path, const ImportOptions& options = {});
SnnModel import_nir(const std::string& path, const ImportOptions& options = {});  // read_file + import_graph

// A spiking network as a NIR graph the reference library reads, which import_graph turns back into the same
// network (same populations, weights and decisions). Throws ModelError naming the population or projection
// that NIR cannot carry (a `current` population with max_pool projections).
File export_graph(const SnnModel& model);
void export_nir(const SnnModel& model, const std::string& path);  // export_graph + write_file

}  // namespace neuroemu::nir
