#include "experiment/hardware_run.h"

#include <fmt/format.h>

#include "common/error.h"
#include "data/dataset_spec.h"
#include "sim/sim_spec.h"
#include "sim/snn_engine.h"

namespace neuroemu::experiment {

namespace {

// Conservation: every synaptic operation the engine counted happened in a core, projection by projection. A
// constant-current input is one event per pixel per image: the engine counts those as input MACs.
void check_conservation(const HwStats& stats, const SnnModel& model, const InputEncoding& encoding,
                        const std::vector<int64_t>& engine_sops, int64_t engine_input_macs, int64_t engine_correct) {
    int64_t chip_input_sops = 0;
    for (size_t k = 0; k < engine_sops.size(); ++k) {
        if (encoding.constant_current() && model.projections[k].source == 0) {
            chip_input_sops += stats.sops_by_projection_index[k];
            continue;
        }
        if (engine_sops[k] != stats.sops_by_projection_index[k])
            throw InternalError(fmt::format("projection '{}': the engine counted {} synaptic operations, the chip's cores {}",
                                            model.projections[k].name, engine_sops[k], stats.sops_by_projection_index[k]));
    }
    if (chip_input_sops != engine_input_macs)
        throw InternalError(fmt::format("input: the engine counted {} MACs of the constant current, the chip's cores {}",
                                        engine_input_macs, chip_input_sops));
    const int64_t hw_correct = stats.correct_at_step.empty() ? 0 : stats.correct_at_step.back();
    if (hw_correct != engine_correct) throw InternalError("the chip's decisions differ from the functional engine's");
}

}  // namespace

void carry_engine_spikes(ChipModel& chip, const Settings& settings, const SnnModel& model, const ImageSet& test,
                         int verbosity) {
    SnnOptions options = snn_options(settings);
    const SnnEngine engine(model);
    const InputNormalisation norm = input_normalisation(settings, test.channels);
    std::vector<int64_t> engine_sops(model.projections.size(), 0);
    int64_t engine_correct = 0, engine_input_macs = 0;
    for (int64_t i = 0; i < test.count; ++i) {
        TraceRecorder recorder(static_cast<int>(model.populations.size()), options.steps);
        options.observer = &recorder;
        const SnnResult result = engine.evaluate(test.slice(i, 1), norm, options);
        for (size_t k = 0; k < result.projections.size(); ++k) engine_sops[k] += result.projections[k].sops;
        engine_correct += result.correct_at_step.back();
        engine_input_macs += result.input_macs;
        SpikeTrace& trace = recorder.traces().at(0);
        if (options.encoding->constant_current()) set_current_input(trace, test, i, norm);
        chip.run(trace);
        if (verbosity > 1) fmt::print("image {}: done\n", i + 1);
    }
    chip.finish();
    check_conservation(chip.stats(), model, *options.encoding, engine_sops, engine_input_macs, engine_correct);
}

ReplayInfo scan_trace(AerReader& reader, const Mapping& mapping, const std::string& file) {
    ReplayInfo replay;
    replay.file = file;
    replay.trace = reader.scan(mapping);
    replay.recorded_tree = reader.recorded_with_tree();
    replay.same_placement = reader.header().placement == placement_fingerprint(mapping);
    replay.images = replay.trace.images;
    return replay;
}

void replay_trace(ChipModel& chip, AerReader& reader, ReplayInfo& replay, int verbosity) {
    RecordedImage image;
    for (int64_t i = 0; i < replay.images && reader.next_image(image); ++i) {
        replay.packets += image.packets;
        chip.replay(image);
        if (verbosity > 1) fmt::print("image {}: done\n", i + 1);
    }
    chip.finish();
}

}  // namespace neuroemu::experiment
