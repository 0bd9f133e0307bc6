// `neuroemu simulate`: the converted model on its mapped chip, in the SystemC hardware model
// (docs/hardware-model.md). --trace writes a VCD file, --aer-out records every packet, --aer-in drives the chip
// from such a recording instead of the functional engine (docs/cli.md, traces/README.md).
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <limits>
#include <numeric>

#include "cli/commands.h"
#include "cli/output.h"
#include "cli/pipeline.h"
#include "common/error.h"
#include "data/dataset_spec.h"
#include "hw/chip_model.h"
#include "mapping/map_file.h"
#include "router/multicast/multicast.h"
#include "sim/sim_spec.h"

namespace neuroemu {

namespace {

// The mapping must describe this model: the same populations, in the same order and shapes.
void check_mapping_matches(const Mapping& m, const SnnModel& model, const std::string& file) {
    for (const auto& l : m.graph.layers) {
        if (l.population < 0 || l.population >= static_cast<int>(model.populations.size()))
            throw DataError(fmt::format("{}: layer '{}' refers to population {}, but the model has {}", file, l.name,
                                        l.population, model.populations.size()));
        const Population& p = model.populations[static_cast<size_t>(l.population)];
        if (p.size() != l.units() && l.kind != UnitKind::Partial)
            throw DataError(fmt::format("{}: layer '{}' has {} units, but population '{}' of the model has {} neurons; "
                                        "map this model again",
                                        file, l.name, l.units(), p.name, p.size()));
    }
}

// The VCD scope and the AER output from the command line (indices checked against the mapping).
HwOptions hw_options(const SimulateOptions& cmd, const Mapping& m, std::shared_ptr<const InputEncoding> encoding) {
    HwOptions ho;
    ho.encoding = std::move(encoding);
    ho.vcd_path = cmd.trace;
    if (cmd.trace.empty() && (cmd.trace_cores || cmd.trace_routers || cmd.trace_window))
        throw ConfigError("--trace-cores, --trace-routers and --trace-window choose what --trace FILE.vcd records: "
                          "give --trace too");
    if (cmd.trace_cores)
        ho.vcd_cores = parse_index_list(*cmd.trace_cores, static_cast<int64_t>(m.cores.size()), "--trace-cores");
    if (cmd.trace_routers) ho.vcd_routers = parse_index_list(*cmd.trace_routers, m.mesh.routers(), "--trace-routers");
    if (cmd.trace_window) ho.vcd_window = parse_tick_window(*cmd.trace_window, "--trace-window");
    ho.aer_path = cmd.aer_out;
    if (!cmd.aer_in.empty() && !cmd.aer_out.empty()) {
        std::error_code ec;
        if (cmd.aer_in == cmd.aer_out || std::filesystem::equivalent(cmd.aer_in, cmd.aer_out, ec))
            throw ConfigError(fmt::format("--aer-out {} would overwrite the trace that --aer-in reads", cmd.aer_out));
    }
    return ho;
}

// What a replay read (--aer-in).
struct ReplayInfo {
    std::string file;
    AerSummary trace;     // the whole file
    int64_t images = 0;   // replayed
    int64_t packets = 0;  // records of the replayed images
    bool recorded_tree = true, same_placement = true;
};

nlohmann::json file_json(const std::string& path) {
    if (path.empty()) return nullptr;
    std::error_code ec;
    const auto bytes = std::filesystem::file_size(path, ec);
    return {{"file", path}, {"bytes", ec ? nlohmann::json(nullptr) : nlohmann::json(bytes)}};
}

std::string size_text(const std::string& path) {
    std::error_code ec;
    const auto bytes = std::filesystem::file_size(path, ec);
    return ec ? std::string("size unknown") : fmt::format("{} bytes", thousands(static_cast<int64_t>(bytes)));
}

// Prints the run and writes --json. A replay has no classification.
void report(const CommonOptions& opts, const HwOptions& ho, const Settings& settings, const Mapping& m,
            const SnnModel& model, const HwStats& s, int64_t steps, const ReplayInfo* replay) {
    const double images = static_cast<double>(std::max<int64_t>(1, s.images));
    const int64_t hw_correct = s.correct_at_step.empty() ? 0 : s.correct_at_step.back();
    const double clock = m.chip.clock_hz;
    const double cycles_per_image = static_cast<double>(s.cycles) / images;
    const double mean_tick = s.ticks ? static_cast<double>(s.cycles) / static_cast<double>(s.ticks) : 0.0;
    const double link_flits_max = static_cast<double>(*std::max_element(s.noc.link_flits.begin(), s.noc.link_flits.end()));
    const int32_t occupancy_max = *std::max_element(s.noc.router_max_occupancy.begin(), s.noc.router_max_occupancy.end());
    const int64_t core_sops_max = *std::max_element(s.core_sops.begin(), s.core_sops.end());
    const double hop_rate = s.seconds > 0 ? static_cast<double>(s.noc.hops) / s.seconds : 0.0;
    const bool tree = make_multicast(m.chip.noc.multicast)->forks_in_routers();

    fmt::print("chip {}: {} cores on a {} x {} mesh; {} images x {} steps\n", m.chip.name, thousands(static_cast<int64_t>(m.cores.size())),
               m.mesh.width(), m.mesh.height(), s.images, steps);
    if (replay) {
        fmt::print("replayed {} of the {} images in {} ({} packets recorded); classification: not available, the "
                   "spikes come from the trace, not from the functional engine\n",
                   replay->images, replay->trace.images, replay->file, thousands(replay->packets));
        if (replay->recorded_tree != tree)
            fmt::print("note: recorded with {}, replayed with {}: packet counts differ from the recording\n",
                       replay->recorded_tree ? "multicast trees" : "unicast packets", tree ? "multicast trees" : "unicast packets");
        else if (replay->packets != s.packets)
            fmt::print("note: the chip carried {} packets, the trace holds {}\n", thousands(s.packets), thousands(replay->packets));
        if (!replay->same_placement)
            fmt::print("note: the cores are placed differently from the recording, so the cycles differ from it\n");
    } else {
        fmt::print("classification: top-1 {:.2f}% ({}/{}), the functional engine's decisions, carried spike for spike\n",
                   100.0 * static_cast<double>(hw_correct) / images, hw_correct, s.images);
    }
    fmt::print("latency per inference: {:.0f} cycles = {:.3f} ms at {:.0f} MHz; cycles per tick mean {:.1f}, max {}\n",
               cycles_per_image, 1e3 * cycles_per_image / clock, clock / 1e6, mean_tick, s.max_tick_cycles);
    fmt::print("per image: {} packets, {} deliveries, {} hops ({} inter-chip), {} SOPs in cores ({} more on partial "
               "sums and gates), {} neuron updates\n",
               thousands(static_cast<int64_t>(static_cast<double>(s.packets) / images)),
               thousands(static_cast<int64_t>(static_cast<double>(s.deliveries) / images)),
               thousands(static_cast<int64_t>(static_cast<double>(s.noc.hops) / images)),
               thousands(static_cast<int64_t>(static_cast<double>(s.noc.inter_chip_hops) / images)),
               thousands(static_cast<int64_t>(static_cast<double>(s.sops) / images)),
               thousands(static_cast<int64_t>(static_cast<double>(s.partial_sum_sops) / images)),
               thousands(static_cast<int64_t>(static_cast<double>(s.neuron_updates) / images)));
    fmt::print("packet latency mean {:.1f} cycles, max {}; stall cycles {}; busiest link {:.0f} flits per image; "
               "fullest router buffer {} flits; busiest core {} SOPs per image\n",
               s.deliveries ? static_cast<double>(s.packet_latency_sum) / static_cast<double>(s.deliveries) : 0.0,
               s.packet_latency_max, thousands(s.noc.stall_cycles), link_flits_max / images, occupancy_max,
               thousands(static_cast<int64_t>(static_cast<double>(core_sops_max) / images)));
    if (opts.verbosity > 0)
        fmt::print("simulation: {:.2f} s, {:.0f} ticks/s, {:.2f} M packet-hops/s\n", s.seconds,
                   s.seconds > 0 ? static_cast<double>(s.ticks) / s.seconds : 0.0, hop_rate / 1e6);
    if (!ho.vcd_path.empty()) {
        const std::vector<int32_t> cores = ho.vcd_cores ? *ho.vcd_cores : default_vcd_scope(m).cores;
        const size_t routers = ho.vcd_routers ? ho.vcd_routers->size() : routers_of(m, cores).size();
        const int64_t to = std::min(ho.vcd_window.to < 0 ? steps : ho.vcd_window.to, s.ticks);
        fmt::print("VCD trace {}: {} cores, {} routers, ticks {}-{} ({})\n", ho.vcd_path, cores.size(), routers,
                   ho.vcd_window.from, to - 1, size_text(ho.vcd_path));
    }
    if (!ho.aer_path.empty())
        fmt::print("AER trace {}: {} packets ({})\n", ho.aer_path, thousands(s.packets), size_text(ho.aer_path));

    if (!opts.json_file.empty()) {
        nlohmann::json doc = {
            {"command", "simulate"},
            {"model", model.name},
            {"chip", {{"name", m.chip.name}, {"clock_hz", clock}, {"cores", m.cores.size()},
                      {"mesh", {m.mesh.width(), m.mesh.height()}}, {"multicast", m.chip.noc.multicast}}},
            {"images", s.images},
            {"steps", steps},
            {"top1", replay ? nlohmann::json(nullptr) : nlohmann::json(static_cast<double>(hw_correct) / images)},
            {"correct", replay ? nlohmann::json(nullptr) : nlohmann::json(hw_correct)},
            {"accuracy_curve", [&] {
                 if (replay) return nlohmann::json(nullptr);
                 nlohmann::json c = nlohmann::json::array();
                 for (int64_t v : s.correct_at_step) c.push_back(static_cast<double>(v) / images);
                 return c;
             }()},
            {"cycles", {{"total", s.cycles}, {"per_image", cycles_per_image}, {"per_tick_mean", mean_tick},
                        {"per_tick_max", s.max_tick_cycles}, {"per_tick", s.tick_cycles}}},
            {"latency_s_per_image", cycles_per_image / clock},
            {"counters", {{"packets", s.packets}, {"deliveries", s.deliveries}, {"hops", s.noc.hops},
                          {"flit_hops", s.noc.flit_hops}, {"inter_chip_hops", s.noc.inter_chip_hops}, {"sops", s.sops},
                          {"partial_sum_and_gate_sops", s.partial_sum_sops}, {"neuron_updates", s.neuron_updates},
                          {"events_generated", s.spikes}, {"buffer_writes_flits", s.noc.buffer_writes},
                          {"stall_cycles", s.noc.stall_cycles}}},
            {"packet_latency_cycles", {{"mean", s.deliveries ? static_cast<double>(s.packet_latency_sum) / static_cast<double>(s.deliveries) : 0.0},
                                       {"max", s.packet_latency_max}}},
            {"per_core_sops", s.core_sops},
            {"per_router_flits", s.noc.router_flits},
            {"per_router_max_occupancy_flits", s.noc.router_max_occupancy},
            {"per_link_flits", s.noc.link_flits},
            {"seconds", s.seconds},
            {"packet_hops_per_s", hop_rate},
            {"vcd", file_json(ho.vcd_path)},
            {"aer_out", file_json(ho.aer_path)},
            {"replay", replay ? nlohmann::json{{"file", replay->file},
                                               {"images", replay->images},
                                               {"images_in_file", replay->trace.images},
                                               {"packets_recorded", replay->packets},
                                               {"recorded_multicast", replay->recorded_tree ? "tree" : "source"},
                                               {"same_placement", replay->same_placement}}
                              : nlohmann::json(nullptr)},
            {"settings", settings_json(settings)}};
        write_json_file(opts.json_file, doc);
    }
}

MapRun mapping_for(const CommonOptions& opts, const SimulateOptions& cmd, const Settings& settings) {
    MapRun run = prepare_mapping(settings, cmd.snn, true, opts.verbosity, cmd.map.empty());
    if (!cmd.map.empty()) {  // a mapping made earlier
        run.mapping = load_mapping(cmd.map);
        check_mapping_matches(run.mapping, run.model, cmd.map);
    }
    return run;
}

}  // namespace

// The functional engine's spikes, image by image, carried by the chip (cli/pipeline.h).
void carry_engine_spikes(ChipModel& chip, const Settings& settings, const SnnModel& model, const ImageSet& test,
                         int verbosity) {
    SnnOptions so = snn_options(settings);
    const SnnEngine engine(model);
    const InputNormalisation norm = input_normalisation(settings, test.channels);
    std::vector<int64_t> engine_sops(model.projections.size(), 0);
    int64_t engine_correct = 0, engine_input_macs = 0;
    for (int64_t i = 0; i < test.count; ++i) {
        TraceRecorder rec(static_cast<int>(model.populations.size()), so.steps);
        so.observer = &rec;
        const SnnResult r = engine.evaluate(test.slice(i, 1), norm, so);
        for (size_t k = 0; k < r.projections.size(); ++k) engine_sops[k] += r.projections[k].sops;
        engine_correct += r.correct_at_step.back();
        engine_input_macs += r.input_macs;
        SpikeTrace& trace = rec.traces().at(0);
        if (so.encoding->constant_current()) set_current_input(trace, test, i, norm);
        chip.run(trace);
        if (verbosity > 1) fmt::print("image {}: done\n", i + 1);
    }
    chip.finish();
    const HwStats& s = chip.stats();
    // Conservation: every synaptic operation the engine counted happened in a core, projection by projection. A
    // constant-current input is one event per pixel per image: the engine counts those as input MACs.
    int64_t chip_input_sops = 0;
    for (size_t k = 0; k < engine_sops.size(); ++k) {
        if (so.encoding->constant_current() && model.projections[k].source == 0) {
            chip_input_sops += s.sops_by_projection_index[k];
            continue;
        }
        if (engine_sops[k] != s.sops_by_projection_index[k])
            throw InternalError(fmt::format("projection '{}': the engine counted {} synaptic operations, the chip's cores {}",
                                            model.projections[k].name, engine_sops[k], s.sops_by_projection_index[k]));
    }
    if (chip_input_sops != engine_input_macs)
        throw InternalError(fmt::format("input: the engine counted {} MACs of the constant current, the chip's cores {}",
                                        engine_input_macs, chip_input_sops));
    const int64_t hw_correct = s.correct_at_step.empty() ? 0 : s.correct_at_step.back();
    if (hw_correct != engine_correct) throw InternalError("the chip's decisions differ from the functional engine's");
}

namespace {

int run_engine(const CommonOptions& opts, const SimulateOptions& cmd) {
    std::vector<std::string> extra;
    if (cmd.steps) extra.push_back("simulation.steps=" + std::to_string(*cmd.steps));
    if (cmd.images) extra.push_back("dataset.images=" + std::to_string(*cmd.images));
    const Settings settings = load_experiment(opts, extra);
    const MapRun run = mapping_for(opts, cmd, settings);
    const Mapping& m = run.mapping;
    const SnnModel& model = run.model;

    const ImageSet test = load_dataset(settings, Split::Test, settings.get_int("dataset.images"));
    const SnnOptions so = snn_options(settings);
    const HwOptions ho = hw_options(cmd, m, so.encoding);
    ChipModel chip(m, model, ho);
    carry_engine_spikes(chip, settings, model, test, opts.verbosity);
    const HwStats& s = chip.stats();
    report(opts, ho, settings, m, model, s, so.steps, nullptr);
    return 0;
}

// --aer-in: the chip driven by a recorded trace. The mapping is made as for the recording, with the steps per image
// the trace was recorded with (they decide the measured firing rates, hence the placement).
int run_replay(const CommonOptions& opts, const SimulateOptions& cmd) {
    AerReader reader(cmd.aer_in);
    const int64_t steps = reader.header().steps;
    if (cmd.steps && *cmd.steps != steps)
        throw ConfigError(fmt::format("--steps {}: {} was recorded with {} steps per image", *cmd.steps, cmd.aer_in, steps));
    const Settings settings = load_experiment(opts, {"simulation.steps=" + std::to_string(steps)});
    const MapRun run = mapping_for(opts, cmd, settings);
    const Mapping& m = run.mapping;
    ReplayInfo info;
    info.file = cmd.aer_in;
    info.trace = reader.scan(m);
    info.recorded_tree = reader.recorded_with_tree();
    info.same_placement = reader.header().placement == placement_fingerprint(m);
    info.images = info.trace.images;
    if (cmd.images) {
        if (*cmd.images > info.trace.images)
            throw ConfigError(fmt::format("--images {}: {} holds {} images", *cmd.images, cmd.aer_in, info.trace.images));
        info.images = *cmd.images;
    }
    const HwOptions ho = hw_options(cmd, m, snn_options(settings).encoding);
    ChipModel chip(m, run.model, ho);
    RecordedImage image;
    for (int64_t i = 0; i < info.images && reader.next_image(image); ++i) {
        info.packets += image.packets;
        chip.replay(image);
        if (opts.verbosity > 1) fmt::print("image {}: done\n", i + 1);
    }
    chip.finish();
    report(opts, ho, settings, m, run.model, chip.stats(), steps, &info);
    return 0;
}

}  // namespace

int run_simulate(const CommonOptions& opts, const SimulateOptions& cmd) {
    if (!cmd.aer_in.empty()) return run_replay(opts, cmd);
    return run_engine(opts, cmd);
}

}  // namespace neuroemu
