// A realistic report document (docs/report-format.md) for the renderer tests: a ResNet-20 on a small mesh, with
// and without hardware simulation.
#pragma once

#include <cmath>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace neuroemu::report::test {

inline nlohmann::json energy_term(const std::string& key, const std::string& label, double count, const std::string& unit,
                                  double coefficient_j, const std::string& coefficient_key, const std::string& source) {
    return {{"key", key},   {"label", label},
            {"count", count}, {"unit", unit},
            {"coefficient_j", coefficient_j}, {"coefficient_key", coefficient_key},
            {"energy_j", count * coefficient_j}, {"source", source}};
}

// A width x height grid with cores on the first `cores` positions (row-major), others null.
inline nlohmann::json grid(int width, int height, int cores, double scale, double offset) {
    nlohmann::json rows = nlohmann::json::array();
    for (int y = 0; y < height; ++y) {
        nlohmann::json row = nlohmann::json::array();
        for (int x = 0; x < width; ++x) {
            const int i = y * width + x;
            if (i >= cores) row.push_back(nullptr);
            else row.push_back(offset + scale * (0.5 + 0.5 * std::sin(0.37 * i + 0.11 * y)));
        }
        rows.push_back(row);
    }
    return rows;
}

inline nlohmann::json full_report() {
    using nlohmann::json;
    const int steps = 120, width = 9, height = 8, cores = 67;
    json curve = json::array();
    for (int t = 1; t <= steps; ++t) curve.push_back(0.9340 * (1.0 - std::exp(-t / 14.0)) + 0.01 * std::cos(t * 0.7) * std::exp(-t / 30.0));
    json layers = json::array();
    const std::vector<std::string> names = {"input", "conv1", "layer1.0.relu1", "layer1.0.add", "layer1.1.relu1",
                                            "layer1.1.add", "layer2.0.relu1", "layer2.0.add", "layer2.1.relu1",
                                            "layer2.1.add", "layer3.0.relu1", "layer3.0.add", "avgpool", "fc"};
    for (size_t i = 0; i < names.size(); ++i) {
        const double neurons = i == 0 ? 784 : i < 6 ? 12544 : i < 10 ? 6272 : i < 12 ? 3136 : i == 12 ? 64 : 10;
        const double rate = i == 0 ? 0.41 : 0.02 + 0.015 * static_cast<double>(i % 5);
        layers.push_back({{"name", names[i]},
                          {"kind", i == 0 ? "input" : "if"},
                          {"neurons", neurons},
                          {"firing_rate", rate},
                          {"spikes_per_image", neurons * rate * steps},
                          {"sops_per_image", i == 0 ? 0.0 : 1.9e6 * static_cast<double>(i)},
                          {"sop_share", i == 0 ? 0.0 : static_cast<double>(i) / 91.0}});
    }
    json snn_terms = json::array({
        energy_term("sop", "synaptic operations", 1.74e8, "SOP", 7.7e-14, "chip.energy.sop_j",
                    "functional engine (algorithmic SOPs)"),
        energy_term("input", "input MACs", 2.1e6, "MAC", 1.5e-13, "chip.energy.input_mac_j", "model (first layer, constant current)"),
        energy_term("spike", "spikes generated", 3.2e6, "spike", 2.0e-12, "chip.energy.spike_j", "functional engine"),
        energy_term("neuron_update", "neuron updates", 5.6e6, "update", 5.2e-14, "chip.energy.neuron_update_j",
                    "functional engine (neurons x steps)"),
        energy_term("hop", "flit-hops, \"multicast\", on the mesh", 4.4e6, "flit-hop", 3.1e-13, "chip.energy.hop_j",
                    "hardware model"),
        energy_term("static", "static power", 67 * 0.0337, "core·s", 2.0e-6, "chip.energy.static_w_per_core",
                    "cores x latency"),
    });
    double snn_total = 0;
    for (const json& t : snn_terms) snn_total += t["energy_j"].get<double>();
    json ann_terms = json::array({energy_term("flop", "FLOPs on the FPGA", 4.1e7, "FLOP", 1.25e-11, "chip.energy.flop_j",
                                              "model (MACs of the ANN x chip.energy.flops_per_mac)")});
    const double ann_total = ann_terms[0]["energy_j"].get<double>();
    const double snn_sop = snn_terms[0]["energy_j"].get<double>();
    json cycles = json::array();
    for (int t = 0; t < steps; ++t) cycles.push_back(9000 + 1500 * std::exp(-t / 20.0) + 120 * (t % 7));
    double cycles_sum = 0, cycles_max = 0;
    for (const json& c : cycles) cycles_sum += c.get<double>(), cycles_max = std::max(cycles_max, c.get<double>());

    return {{"command", "report"},
            {"format", 1},
            {"title", "resnet20_fmnist on rolls"},
            {"config", "configs/default.yaml"},
            {"headline",
             {{"accuracy_snn", 0.9340}, {"accuracy_ann", 0.9363}, {"steps", steps}, {"images", 500}, {"cores", cores},
              {"fits", true}, {"fit_error", nullptr}, {"energy_snn_j", snn_total}, {"energy_snn_sop_j", snn_sop},
              {"energy_ann_j", ann_total}, {"ratio_ann_to_snn", ann_total / snn_total},
              {"ratio_ann_to_snn_sop", ann_total / snn_sop}, {"latency_s", 0.00963}, {"latency_cycles", cycles_sum},
              {"cycles_per_tick_mean", cycles_sum / steps}}},
            {"accuracy",
             {{"steps", steps}, {"images", 500}, {"snn_curve", curve}, {"ann", 0.9363},
              {"checkpoints", json::array({{{"step", 16}, {"top1", curve[15]}}, {{"step", 32}, {"top1", curve[31]}},
                                           {{"step", 64}, {"top1", curve[63]}}, {{"step", 120}, {"top1", curve[119]}}})}}},
            {"layers", layers},
            {"energy",
             {{"snn", {{"total_j", snn_total}, {"terms", snn_terms}}},
              {"ann", {{"total_j", ann_total}, {"macs", 4.1e7}, {"flops_per_mac", 1}, {"flops", 4.1e7}, {"terms", ann_terms}}}}},
            {"mesh",
             {{"width", width}, {"height", height}, {"chips", 1},
              {"core_utilisation", grid(width, height, cores, 0.6, 0.4)},
              {"synapse_utilisation", grid(width, height, cores, 0.8, 0.1)},
              {"router_flits", grid(width, height, width * height, 52000, 300)},
              {"link_flits_max", grid(width, height, width * height, 21000, 100)},
              {"link_flits_source", "hardware model"}}},
            {"ticks", {{"clock_hz", 1e8}, {"images", 1}, {"cycles_per_tick", cycles}, {"mean", cycles_sum / steps},
                       {"max", cycles_max}}},
            {"paper_energy",
             json::array({{{"network", "ResNet-34"}, {"gmac", 3.66}, {"paper_gflop", 3.67}, {"paper_gsop", 65.28},
                           {"flops_per_mac", 1}, {"energy_ann_j", 0.0459}, {"energy_snn_j", 0.00503}, {"ratio", 9.13},
                           {"more_than_9x", true}},
                          {{"network", "ResNet-50"}, {"gmac", 4.11}, {"paper_gflop", 4.11}, {"paper_gsop", 78.12},
                           {"flops_per_mac", 1}, {"energy_ann_j", 0.0514}, {"energy_snn_j", 0.00602}, {"ratio", 8.54},
                           {"more_than_9x", false}}})},
            {"settings",
             {{"chip.clock_hz", "1e8"}, {"simulation.steps", "120"}, {"model.name", "resnet20_fmnist"},
              {"chip.energy.sop_j", "7.7e-14"}, {"conversion.percentile", "99.99"}}}};
}

// The same run without hardware simulation (--hw-images 0): no ticks, no link load, no latency.
inline nlohmann::json no_hardware_report() {
    nlohmann::json doc = full_report();
    doc["headline"]["latency_s"] = nullptr;
    doc["headline"]["latency_cycles"] = nullptr;
    doc["headline"]["cycles_per_tick_mean"] = nullptr;
    doc["headline"]["accuracy_ann"] = nullptr;
    doc["accuracy"]["ann"] = nullptr;
    doc["mesh"]["router_flits"] = nullptr;
    doc["mesh"]["link_flits_max"] = nullptr;
    doc["mesh"]["link_flits_source"] = nullptr;
    doc["ticks"] = nullptr;
    doc["energy"]["snn"]["terms"][4]["source"] = "mapper estimate";
    return doc;
}

}  // namespace neuroemu::report::test
