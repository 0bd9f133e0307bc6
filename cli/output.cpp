#include "cli/output.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <fstream>

#include "common/error.h"
#include "common/file_io.h"

namespace neuroemu {

std::string thousands(int64_t n) {
    std::string digits = std::to_string(n < 0 ? -n : n), out;
    for (size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return n < 0 ? "-" + out : out;
}

namespace {

std::string figure_number(double v) {
    return std::fabs(v) >= 1000 ? thousands(static_cast<int64_t>(std::llround(v))) : fmt::format("{:.4g}", v);
}

}  // namespace

void print_sampling(const nlohmann::json& sampling) {
    fmt::print("tick sampling: {}\n", sampling.at("description").get<std::string>());
    if (!sampling.at("exact").get<bool>()) {
        const auto& ticks = sampling.at("ticks");
        std::string line;
        for (size_t i = 0; i < ticks.size() && i < 2; ++i) {
            line += fmt::format("{}image {}:", i ? "; " : "", i + 1);
            for (const auto& t : ticks[i]) line += " " + std::to_string(t.get<int64_t>());
        }
        fmt::print("ticks simulated: {}{}\n", line, ticks.size() > 2 ? fmt::format("; ... ({} images, all in --json)", ticks.size()) : "");
    }
    for (const auto& f : sampling.at("figures")) {
        const std::string unit = f.at("unit").get<std::string>().empty() ? "" : " " + f.at("unit").get<std::string>();
        const double estimate = f.at("estimate").get<double>();
        fmt::print("  {:<38} {}{}{}\n", f.at("label").get<std::string>(), figure_number(estimate), unit,
                   f.at("exact").get<bool>() ? " (exact)"
                                             : fmt::format("  [{}, {}]", figure_number(f.at("low").get<double>()),
                                                           figure_number(f.at("high").get<double>())));
    }
    const bool lower = sampling.at("max_tick_cycles").at("lower_bound").get<bool>();
    fmt::print("  max tick {} cycles, max packet latency {} cycles{}\n",
               thousands(sampling.at("max_tick_cycles").at("value").get<int64_t>()),
               thousands(sampling.at("max_packet_latency_cycles").at("value").get<int64_t>()),
               lower ? " (of the simulated ticks: lower bounds)" : "");
}

nlohmann::json model_summary_json(const Network& net) {
    nlohmann::json layers = nlohmann::json::array();
    for (int id = 0; id < net.size(); ++id) {
        const Layer& l = net.layer(id);
        nlohmann::json inputs = nlohmann::json::array();
        for (int src : l.inputs) inputs.push_back(net.layer(src).name);
        layers.push_back({{"name", l.name},
                          {"op", op_name(l.kind)},
                          {"inputs", inputs},
                          {"shape", l.shape},
                          {"params", param_count(l)},
                          {"macs", mac_count(l)},
                          {"if_neurons", if_neuron_count(net, id)}});
    }
    const NetworkTotals t = totals(net);
    return {{"name", net.name()},
            {"input_shape", net.input_shape()},
            {"output_shape", net.layer(net.output_id()).shape},
            {"layers", layers},
            {"totals", {{"params", t.params}, {"macs", t.macs}, {"flops", 2 * t.macs}, {"if_neurons", t.if_neurons}}}};
}

void write_json_file(const std::string& path, const nlohmann::json& doc) { write_file_atomic(path, doc.dump(2) + '\n'); }

}  // namespace neuroemu
