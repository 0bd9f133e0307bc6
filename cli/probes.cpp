#include "cli/probes.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "common/error.h"
#include "common/file_io.h"

namespace neuroemu {

namespace {

// A non-negative integer, all of `text`; nullopt otherwise.
std::optional<int64_t> whole_number(const std::string& text) {
    if (text.empty() || text.size() > 18 || !std::all_of(text.begin(), text.end(), ::isdigit)) return std::nullopt;
    return std::stoll(text);
}

std::vector<std::string> split(const std::string& text, char separator) {
    std::vector<std::string> parts;
    std::stringstream in(text);
    for (std::string part; std::getline(in, part, separator);) parts.push_back(part);
    if (!text.empty() && text.back() == separator) parts.emplace_back();
    return parts;
}

int find_population(const std::string& pop, const SnnModel& model, const std::string& text) {
    for (size_t i = 0; i < model.populations.size(); ++i)
        if (model.populations[i].name == pop) return static_cast<int>(i);
    if (const auto index = whole_number(pop); index && *index < static_cast<int64_t>(model.populations.size()))
        return static_cast<int>(*index);
    std::string names;
    for (size_t i = 0; i < model.populations.size(); ++i) names += fmt::format("{}{}:{}", i ? ", " : "", i, model.populations[i].name);
    throw ConfigError(fmt::format("--probe {}: no population '{}'; expected a name or index of {}", text, pop, names));
}

int64_t find_neuron(const std::string& neuron, const Population& p, const std::string& text) {
    const std::vector<std::string> parts = split(neuron, ':');
    if (parts.size() == 1)
        if (const auto index = whole_number(neuron); index && *index < p.size()) return *index;
    if (parts.size() == 3 && p.shape.size() == 3) {
        const auto c = whole_number(parts[0]), y = whole_number(parts[1]), x = whole_number(parts[2]);
        if (c && y && x && *c < p.shape[0] && *y < p.shape[1] && *x < p.shape[2])
            return (*c * p.shape[1] + *y) * p.shape[2] + *x;
    }
    throw ConfigError(fmt::format("--probe {}: neuron '{}' of population '{}' (shape {}): expected a flat index in "
                                  "[0, {}) or c:y:x within the shape",
                                  text, neuron, p.name, fmt::join(p.shape, "x"), p.size()));
}

}  // namespace

void add_probe_options(CLI::App* cmd, ProbeOptions& options) {
    cmd->add_option("--probe", options.probes,
                    "record a neuron's membrane potential, synaptic current and spikes every step: POP:NEURON[,NEURON...], "
                    "POP a population's name or index, NEURON a flat [C][H][W] index or c:y:x (repeatable)")
        ->type_name("POP:NEURON")
        ->allow_extra_args(false);
    cmd->add_option("--probe-csv", options.csv, "write the --probe traces to FILE (CSV: step, then v, i_syn, spike per probe)");
    cmd->add_option("--probe-image", options.image, "the image whose steps --probe records (default 0)")->type_name("N");
    cmd->add_option("--input-spikes", options.input_spikes,
                    "drive the network from FILE instead of a dataset: one line per step, the spike counts of the "
                    "input neurons (whitespace- or comma-separated, [C][H][W] order)");
}

std::vector<ProbeSpec> parse_probes(const ProbeOptions& options, const SnnModel& model) {
    if (options.probes.empty() != options.csv.empty())
        throw ConfigError(options.csv.empty() ? "--probe records traces that --probe-csv FILE writes: give --probe-csv too"
                                              : "--probe-csv FILE writes the traces of --probe POP:NEURON: give --probe too");
    std::vector<ProbeSpec> probes;
    for (const std::string& text : options.probes) {
        const size_t colon = text.find(':');
        if (colon == std::string::npos || colon == 0 || colon + 1 == text.size())
            throw ConfigError(fmt::format("--probe {}: expected POP:NEURON[,NEURON...]", text));
        const int pop = find_population(text.substr(0, colon), model, text);
        if (pop == 0)
            throw ConfigError(fmt::format("--probe {}: population 0 ('{}') is the input: it has no membrane to record",
                                          text, model.populations[0].name));
        for (const std::string& neuron : split(text.substr(colon + 1), ','))
            probes.push_back({pop, find_neuron(neuron, model.populations[static_cast<size_t>(pop)], text)});
    }
    return probes;
}

int64_t probe_image(const ProbeOptions& options) {
    if (!options.image) return 0;
    const auto image = whole_number(*options.image);
    if (!image) throw ConfigError(fmt::format("--probe-image: expected a non-negative integer, got '{}'", *options.image));
    return *image;
}

std::vector<std::vector<int32_t>> read_input_spikes(const std::string& path, int64_t input_neurons) {
    std::ifstream in(path);
    if (!in) throw DataError(fmt::format("{}: cannot read the input spikes", path));
    std::vector<std::vector<int32_t>> steps;
    std::string line;
    for (int64_t number = 1; std::getline(in, line); ++number) {
        std::replace(line.begin(), line.end(), ',', ' ');
        std::istringstream fields(line);
        std::vector<int32_t> counts;
        for (std::string field; fields >> field;) {
            if (counts.empty() && field[0] == '#') break;
            // A count such as 1.0 (numpy's savetxt) is accepted when it is a whole number.
            char* end = nullptr;
            errno = 0;
            const double value = std::strtod(field.c_str(), &end);
            if (*end != '\0' || errno != 0 || value < 0 || value > 65535 || value != static_cast<int32_t>(value))
                throw DataError(fmt::format("{}:{}: '{}' is not a spike count (a whole number in [0, 65535])", path,
                                            number, field));
            counts.push_back(static_cast<int32_t>(value));
        }
        if (counts.empty()) continue;
        if (static_cast<int64_t>(counts.size()) != input_neurons)
            throw DataError(fmt::format("{}:{}: {} column(s); the network has {} input neuron(s), one column each", path,
                                        number, counts.size(), input_neurons));
        steps.push_back(std::move(counts));
    }
    if (steps.empty()) throw DataError(fmt::format("{}: no time steps (one line of spike counts per step)", path));
    if (steps.size() > static_cast<size_t>(kMaxSnnSteps))
        throw DataError(fmt::format("{}: {} steps; at most {}", path, steps.size(), kMaxSnnSteps));
    return steps;
}

namespace {

// The input population's [C][H][W] counts as the stepper's ascending [H][W][C] indices, repeated per spike.
void input_indices(const std::vector<int32_t>& counts, const std::vector<int64_t>& shape, std::vector<int32_t>& out) {
    const int64_t c_n = shape.empty() ? 1 : shape[0];
    const int64_t hw = static_cast<int64_t>(counts.size()) / std::max<int64_t>(1, c_n);
    out.clear();
    for (int64_t p = 0; p < hw; ++p)
        for (int64_t c = 0; c < c_n; ++c)
            out.insert(out.end(), static_cast<size_t>(counts[static_cast<size_t>(c * hw + p)]),
                       static_cast<int32_t>(p * c_n + c));
}

bool fired(const std::vector<SpikeEvent>& events, const Population& p, int64_t neuron) {
    const int64_t h = p.shape.size() == 3 ? p.shape[1] : 1, w = p.shape.size() == 3 ? p.shape[2] : 1;
    const int64_t hw = h * w;
    const int32_t c = static_cast<int32_t>(neuron / hw), y = static_cast<int32_t>(neuron % hw / w),
                  x = static_cast<int32_t>(neuron % w);
    return std::any_of(events.begin(), events.end(), [&](const SpikeEvent& e) { return e.c == c && e.y == y && e.x == x; });
}

}  // namespace

SteppedRun run_input_spikes(const SnnEngine& engine, const std::vector<std::vector<int32_t>>& spikes,
                            const std::vector<ProbeSpec>& probes) {
    SnnStepper stepper(engine);
    const SnnModel& model = stepper.model();
    SteppedRun run;
    run.trace.probes = probes;
    run.trace.image = 0;
    run.population_spikes.assign(model.populations.size(), 0);
    std::vector<int32_t> indices;
    std::vector<SpikeEvent> events;
    for (const auto& counts : spikes) {
        input_indices(counts, model.populations.at(0).shape, indices);
        run.decision = stepper.step(indices.data(), indices.size());
        ++run.steps;
        run.sops += stepper.sops();
        for (size_t pop = 0; pop < model.populations.size(); ++pop) {
            const int64_t n = static_cast<int64_t>(stepper.spike_count(static_cast<int>(pop)));
            run.population_spikes[pop] += n;
            if (pop > 0) run.spikes += n;
        }
        for (const ProbeSpec& probe : probes) {
            stepper.spikes(probe.pop, events);
            run.trace.v.push_back(stepper.potential(probe.pop, probe.neuron));
            run.trace.i_syn.push_back(stepper.synaptic_current(probe.pop, probe.neuron));
            run.trace.spiked.push_back(fired(events, model.populations[static_cast<size_t>(probe.pop)], probe.neuron));
        }
    }
    return run;
}

void write_probe_csv(const std::string& path, const ProbeTrace& trace, const SnnModel& model) {
    std::string text = "step";
    for (const ProbeSpec& p : trace.probes) {
        const std::string name = fmt::format("{}:{}", model.populations.at(static_cast<size_t>(p.pop)).name, p.neuron);
        text += fmt::format(",{0}_v,{0}_i_syn,{0}_spike", name);
    }
    text += '\n';
    const size_t k = trace.probes.size();
    for (int64_t t = 0; t < trace.steps(); ++t) {
        text += std::to_string(t + 1);
        for (size_t j = 0; j < k; ++j) {
            const size_t at = static_cast<size_t>(t) * k + j;
            text += fmt::format(",{:.9g},{:.9g},{}", trace.v.at(at), trace.i_syn.at(at), int(trace.spiked.at(at)));
        }
        text += '\n';
    }
    write_file_atomic(path, text);
}

}  // namespace neuroemu
