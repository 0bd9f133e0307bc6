#include "cli/output.h"

#include <fmt/format.h>

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
