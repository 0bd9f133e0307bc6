// End-to-end tests of NIR networks through the `neuroemu` executable (issue 19): per-neuron traces against the
// closed-form solution of NIR's LIF equation, the chip model on a Sinabs CNN, export round trips, bad inputs.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include <signal.h>

#include "clients/cpp/serve_client.h"
#include "tests/serve/serve_process.h"
#include "tests/support/cli_run.h"

namespace {

const std::string kSrc = NEUROEMU_SOURCE_DIR;
const std::string kNir = kSrc + "/tests/data/nir/";

using neuroemu::cli_test::build_file;
using neuroemu::cli_test::CliRun;
using neuroemu::cli_test::read_json;
using neuroemu::cli_test::run;

std::string out(const std::string& name) { return build_file("nir_cli_test", name); }

// The default experiment's converted model, made once: conversion calibrates on training images, the slow part.
const std::string& default_snn() {
    // One per test process (ctest runs the cases as parallel processes).
    static const std::string snn = neuroemu::cli_test::converted_model(
        kSrc + "/configs/default.yaml", out("default." + std::to_string(getpid()) + ".snn"));
    return snn;
}
std::string default_run() { return kSrc + "/configs/default.yaml --snn " + default_snn(); }

struct Csv {
    std::vector<std::string> header;
    std::vector<std::vector<double>> rows;
};

Csv read_csv(const std::string& path) {
    Csv csv;
    std::ifstream in(path);
    std::string line;
    for (bool first = true; std::getline(in, line); first = false) {
        std::stringstream fields(line);
        std::vector<std::string> cells;
        for (std::string cell; std::getline(fields, cell, ',');) cells.push_back(cell);
        if (first) {
            csv.header = cells;
            continue;
        }
        std::vector<double> row;
        for (const auto& c : cells) row.push_back(std::stod(c));
        csv.rows.push_back(row);
    }
    return csv;
}

std::vector<double> read_column(const std::string& path) {
    std::ifstream in(path);
    std::vector<double> values;
    for (double v; in >> v;) values.push_back(v);
    return values;
}

// NIR's LIF, tau dv/dt = (v_leak - v) + R I, with I the input spike times the Affine weight held over a step,
// in closed form between resets: v_n = v_leak + (v_k - v_leak) a^{n-k} + sum_{j=k+1..n} R I_j (1 - a) a^{n-j},
// a = e^{-dt/tau} (exact) or 1 - dt/tau (forward Euler, whose 1 - a = dt/tau). A spike when v_n > threshold,
// then v = v_reset (the recorded value). Parameters from tests/data/nir/README.md (lif_norse.nir).
struct LifTrace {
    std::vector<double> v;
    std::vector<int> spiked;
};
LifTrace lif_closed_form(const std::vector<double>& input, double a) {
    const double r = 1.0, v_leak = 0.0, threshold = 0.1, v_reset = 0.0, weight = 1.0;
    LifTrace trace;
    size_t k = 0;  // the last reset (0: the start, v = 0 there)
    double v_k = 0.0;
    for (size_t n = 1; n <= input.size(); ++n) {
        double v = v_leak + (v_k - v_leak) * std::pow(a, static_cast<double>(n - k));
        for (size_t j = k + 1; j <= n; ++j)
            v += r * weight * input[j - 1] * (1.0 - a) * std::pow(a, static_cast<double>(n - j));
        const bool spike = v > threshold;
        if (spike) v = v_reset, k = n, v_k = v_reset;
        trace.v.push_back(v);
        trace.spiked.push_back(spike);
    }
    return trace;
}

void check_lif(const std::string& discretisation, double a) {
    const std::string csv_path = out("lif_" + discretisation + ".csv");
    const CliRun r = run("evaluate " + kNir + "lif_norse.nir --input-spikes " + kNir + "lif_input_spikes.txt --probe 1:0 "
                         "--probe-csv " + csv_path + " --set model.nir_discretisation=" + discretisation +
                         " --set model.nir_dt_s=0.0001");
    ASSERT_EQ(r.status, 0) << r.output;
    const std::vector<double> input = read_column(kNir + "lif_input_spikes.txt");
    ASSERT_EQ(input.size(), 1000u);
    const LifTrace expected = lif_closed_form(input, a);
    const Csv csv = read_csv(csv_path);
    ASSERT_EQ(csv.header.size(), 4u);
    EXPECT_EQ(csv.header[0], "step");
    ASSERT_EQ(csv.rows.size(), input.size());
    int spikes = 0;
    for (size_t n = 0; n < input.size(); ++n) {
        EXPECT_EQ(csv.rows[n][0], static_cast<double>(n + 1));
        EXPECT_NEAR(csv.rows[n][1], expected.v[n], 1e-5) << "step " << n + 1;
        EXPECT_EQ(static_cast<int>(csv.rows[n][3]), expected.spiked[n]) << "step " << n + 1;
        spikes += expected.spiked[n];
    }
    EXPECT_GT(spikes, 0) << "the check needs the neuron to fire";
}

TEST(NirCli, LifNorseExactMatchesTheClosedFormSolution) { check_lif("exact", std::exp(-1e-4 / 0.0025)); }
TEST(NirCli, LifNorseEulerMatchesTheEulerClosedForm) { check_lif("euler", 1.0 - 1e-4 / 0.0025); }

TEST(NirCli, ProbeOnTheDefaultModelWritesOneRowPerStep) {
    const std::string csv_path = out("default_probe.csv");
    const CliRun r = run("evaluate " + default_run() + " -q --images 2 --steps 7 --probe 1:0,0:0:1 "
                         "--probe-csv " + csv_path + " --probe-image 1");
    ASSERT_EQ(r.status, 0) << r.output;
    const Csv csv = read_csv(csv_path);
    ASSERT_EQ(csv.header.size(), 7u);  // step, then v, i_syn, spike for each of the two probes
    ASSERT_EQ(csv.rows.size(), 7u);
    for (const auto& row : csv.rows) {
        EXPECT_EQ(row[2], 0.0);  // an IF neuron has no synaptic current
        EXPECT_TRUE(row[3] == 0.0 || row[3] == 1.0);
    }
}

TEST(NirCli, InputSpikesDriveTheDefaultModelStepByStep) {
    // 784 input neurons (1 x 28 x 28); three steps: silence, one spike everywhere, silence.
    const std::string spikes = out("default_spikes.txt"), csv_path = out("default_spikes.csv");
    {
        std::ofstream f(spikes);
        for (int line = 0; line < 3; ++line) {
            for (int i = 0; i < 784; ++i) f << (line == 1 ? 1 : 0) << (i + 1 < 784 ? " " : "\n");
        }
    }
    const CliRun r = run("evaluate " + default_run() + " --input-spikes " + spikes +
                         " --probe 1:5 --probe-csv " + csv_path);
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_NE(r.output.find("(3 steps)"), std::string::npos) << r.output;
    const Csv csv = read_csv(csv_path);
    ASSERT_EQ(csv.rows.size(), 3u);
    for (size_t t = 0; t < 3; ++t) EXPECT_EQ(csv.rows[t][0], static_cast<double>(t + 1));
}

TEST(NirCli, BadInputSpikesFileNamesFileAndLine) {
    const std::string spikes = out("bad_spikes.txt");
    {
        std::ofstream f(spikes);
        f << std::string(784 * 2 - 1, ' ') << "\n";  // blank: skipped
        for (int i = 0; i < 784; ++i) f << "0 ";
        f << "\n1 2 x\n";
    }
    CliRun r = run("evaluate " + default_run() + " --input-spikes " + spikes);
    EXPECT_EQ(r.status, 1) << r.output;
    EXPECT_NE(r.output.find(spikes + ":3: 'x' is not a spike count"), std::string::npos) << r.output;
    {
        std::ofstream f(spikes);
        f << "0 1\n";
    }
    r = run("evaluate " + default_run() + " --input-spikes " + spikes);
    EXPECT_EQ(r.status, 1) << r.output;
    EXPECT_NE(r.output.find(spikes + ":1: 2 column(s); the network has 784 input neuron(s)"), std::string::npos) << r.output;
}

TEST(NirCli, BadProbeIsAConfigError) {
    const std::string csv_path = out("bad_probe.csv");
    for (const auto& [probe, message] :
         std::vector<std::pair<std::string, std::string>>{{"nosuch:0", "no population 'nosuch'"},
                                                          {"1:99999999", "neuron '99999999'"},
                                                          {"1", "expected POP:NEURON"},
                                                          {"1:0:99:0", "c:y:x within the shape"},
                                                          {"0:1", "is the input"}}) {
        const CliRun r = run("evaluate " + default_run() + " --images 1 --steps 2 --probe " + probe +
                             " --probe-csv " + csv_path);
        EXPECT_EQ(r.status, 2) << probe << ": " << r.output;
        EXPECT_NE(r.output.find(message), std::string::npos) << probe << ": " << r.output;
    }
    const CliRun r = run("evaluate " + kSrc + "/configs/default.yaml --images 1 --steps 2 --probe 1:0");
    EXPECT_EQ(r.status, 2) << r.output;
    EXPECT_NE(r.output.find("give --probe-csv too"), std::string::npos) << r.output;
}

TEST(NirCli, TwoModelsAreAConfigError) {
    const CliRun r = run("evaluate " + kSrc + "/configs/default.yaml --set model.nir=" + kNir + "lif_norse.nir");
    EXPECT_EQ(r.status, 2) << r.output;
    EXPECT_NE(r.output.find("choose one model"), std::string::npos) << r.output;
}

TEST(NirCli, NotHdf5AndRejectedFilesGetClearErrors) {
    const std::string bogus = out("not_hdf5.nir");
    std::ofstream(bogus) << "this is not HDF5\n";
    CliRun r = run("evaluate " + bogus);
    EXPECT_EQ(r.status, 1) << r.output;
    EXPECT_NE(r.output.find(bogus), std::string::npos) << r.output;
    r = run("evaluate " + kNir + "lif_rockpool.nir");
    EXPECT_EQ(r.status, 1) << r.output;
    EXPECT_NE(r.output.find("lif_rockpool.nir"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("Output"), std::string::npos) << r.output;
}

// The import's populations and projections, as `evaluate --json` reports them (snn_model).
nlohmann::json imported(const std::string& nir) {
    const std::string json = out("imported.json");
    const CliRun r = run("evaluate " + nir + " -q --images 1 --steps 1 --json " + json);
    EXPECT_EQ(r.status, 0) << r.output;
    return read_json(json)["snn_model"];
}

TEST(NirCli, MapOfSinabsCnnHasTheImportsNeuronsPerLayer) {
    const nlohmann::json model = imported(kNir + "cnn_sinabs.nir");
    const std::string json = out("sinabs_map.json");
    const CliRun r = run("map " + kNir + "cnn_sinabs.nir -q --json " + json);
    ASSERT_EQ(r.status, 0) << r.output;
    const auto j = read_json(json);
    std::map<std::string, int64_t> neurons;
    for (const auto& p : model["populations"])
        if (p["kind"] == "if") neurons[p["name"].get<std::string>()] = p["shape"][0].get<int64_t>() *
                                   (p["shape"].size() == 3 ? p["shape"][1].get<int64_t>() * p["shape"][2].get<int64_t>() : 1);
    ASSERT_EQ(neurons.size(), 5u);  // Sinabs' IF layers 1, 3, 6, 10 and the output 12
    int64_t total = 0, layers = 0;
    for (const auto& layer : j["layers"]) {
        if (layer["kind"] != "neuron") continue;  // partial-sum units of a split fan-in: relays, not neurons
        ++layers;
        EXPECT_EQ(layer["units"].get<int64_t>(), neurons.at(layer["name"].get<std::string>())) << layer["name"];
        total += layer["units"].get<int64_t>();
    }
    EXPECT_EQ(layers, static_cast<int64_t>(neurons.size()));
    EXPECT_EQ(j["bounds"]["if_neurons"].get<int64_t>(), total);
}

// cnn_sinabs's pooling and flatten compose into `sparse` projections: the mapper holds their synapses too.
TEST(NirCli, MapOfSinabsCnnHasTheImportsSynapses) {
    const nlohmann::json model = imported(kNir + "cnn_sinabs.nir");
    const std::string json = out("sinabs_map_synapses.json");
    const CliRun r = run("map " + kNir + "cnn_sinabs.nir -q --json " + json);
    ASSERT_EQ(r.status, 0) << r.output;
    // Every synapse of the import, plus one per partial-sum unit into its neuron where a fan-in is split.
    const auto bounds = read_json(json)["bounds"];
    EXPECT_EQ(bounds["synapses"].get<int64_t>(),
              model["synapses"].get<int64_t>() + bounds["partial_units"].get<int64_t>());
}

TEST(NirCli, SinabsCnnSimulatesOnTheChipModel) {
    // The chip model checks that its cores performed the engine's SOPs projection by projection (an internal error,
    // exit 70, otherwise): exit 0 is the conservation check passing.
    const std::string json = out("sinabs_simulate.json");
    const CliRun r = run("simulate " + kNir + "cnn_sinabs.nir -q --images 1 --steps 4 --json " + json);
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_EQ(read_json(json)["command"], "simulate");
}

TEST(NirCli, InfoOnBrailleShowsItsPopulationsAndRecurrence) {
    // tests/data/nir/README.md: Linear(12->40) -> CubaLIF(40) with a recurrent Linear(40->40), Linear(40->7) -> CubaLIF(7).
    const std::string json = out("braille_info.json");
    const CliRun r = run("info " + kNir + "braille_noDelay_noBias_subtract.nir --json " + json);
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_NE(r.output.find("(recurrent)"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("cuba_lif"), std::string::npos) << r.output;
    const auto j = read_json(json);
    EXPECT_TRUE(j["model"].is_null());  // no ANN
    EXPECT_EQ(j["snn_model"]["synapses"].get<int64_t>(), 12 * 40 + 40 * 40 + 40 * 7);
}

TEST(NirCli, BrailleRecurrentNetEvaluates) {
    const std::string json = out("braille.json");
    const CliRun r = run("evaluate " + kNir + "braille_noDelay_noBias_subtract.nir -q --images 2 --steps 5 --json " + json);
    ASSERT_EQ(r.status, 0) << r.output;
    const auto j = read_json(json);
    EXPECT_TRUE(j["model"]["ann"].is_null());
    EXPECT_TRUE(j["snn"]["top1"].is_null());  // synthetic input: no accuracy
    EXPECT_EQ(j["snn_model"]["source_format"], "nir");
    EXPECT_EQ(j["snn"]["images"], 2);
}

TEST(NirCli, BrailleRecurrentNetSimulates) {
    const CliRun r = run("simulate " + kNir + "braille_noDelay_noBias_subtract.nir -q --images 2 --steps 5");
    EXPECT_EQ(r.status, 0) << r.output;
}

TEST(NirCli, ExploreSweepsTheTimeStepOfANirNetwork) {
    const std::string sweep = out("dt_sweep.yaml"), dir = out("dt_sweep");
    std::filesystem::remove_all(dir);
    std::ofstream(sweep) << "set:\n  model.nir: " << kNir << "lif_norse.nir\n  dataset.format: synthetic\n"
                         << "  dataset.images: 2\n  simulation.encoding: poisson\n  simulation.steps: 20\n"
                         << "mode: functional\ngrid:\n  model.nir_dt_s: [0.0001, 0.001]\n"
                         << "objectives: {energy_j: min, cores: min}\n";
    const CliRun r = run("explore " + sweep + " --jobs 1 -o " + dir);
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_NE(r.output.find("2 points: 2 ok"), std::string::npos) << r.output;
    EXPECT_EQ(r.output.find("conversion"), std::string::npos) << "a NIR network has nothing to convert:\n" << r.output;
}

TEST(NirCli, ReportOnANirNetworkHasNoAnnSide) {
    const std::string dir = out("lif_report");
    const CliRun r = run("report " + kNir + "lif_norse.nir -q --images 2 --steps 20 -o " + dir);
    ASSERT_EQ(r.status, 0) << r.output;
    const auto doc = read_json(dir + "/report.json");
    EXPECT_TRUE(doc["headline"]["energy_ann_j"].is_null());
    EXPECT_TRUE(doc["headline"]["ratio_ann_to_snn"].is_null());
    EXPECT_TRUE(doc["energy"]["ann"].is_null());
    EXPECT_GT(doc["headline"]["energy_snn_j"].get<double>(), 0.0);
}

TEST(NirCli, ConvertWithNirWritesTheExportInsteadOfTheSnn) {
    const std::string nir = out("converted.nir"), json = out("converted.json"), dir = out("convert_cwd");
    std::filesystem::remove(nir);
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    const CliRun r = run("convert " + kSrc + "/configs/default.yaml -q --nir " + nir + " --json " + json, dir);
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_TRUE(std::filesystem::is_regular_file(nir));
    EXPECT_FALSE(std::filesystem::exists(dir + "/model.snn")) << "--nir without -o writes no .snn";
    const auto j = read_json(json);
    EXPECT_TRUE(j["output"].is_null());
    EXPECT_EQ(j["nir_output"], nir);
    const CliRun bad = run("convert " + kSrc + "/configs/default.yaml -q --nir /nonexistent/dir/x.nir");
    EXPECT_EQ(bad.status, 1) << bad.output;
    EXPECT_NE(bad.output.find("/nonexistent/dir/x.nir"), std::string::npos) << bad.output;
}

TEST(NirCli, ServeStepsANirNetwork) {
    neuroemu::serve_test::ServeProcess p(kNir + "lif_norse.nir --paused", "nir_cli_test", "serve_lif");
    ASSERT_TRUE(p.started()) << p.err();
    neuroemu::serve::client::Control c("127.0.0.1", p.control());
    const nlohmann::json hello = c.request({{"op", "hello"}});
    EXPECT_EQ(hello["model"]["input_size"], 1) << hello.dump();
    EXPECT_EQ(hello["model"]["populations"][1]["shape"], nlohmann::json({1})) << hello.dump();
    EXPECT_EQ(c.request({{"op", "run"}, {"ticks", 5}})["ticks"], 5);
    p.signal(SIGTERM);
    EXPECT_EQ(p.wait_exit(), 0) << p.err();
    EXPECT_EQ(nlohmann::json::parse(p.out())["tick"], 5);
}

TEST(NirCli, ExportedDefaultModelEvaluatesAsTheOriginal) {
    const std::string nir = out("default.nir"), a = out("default_eval.json"), b = out("default_nir_eval.json");
    CliRun r = run("export " + kSrc + "/configs/default.yaml -q -o " + nir);
    ASSERT_EQ(r.status, 0) << r.output;
    r = run("evaluate " + kSrc + "/configs/default.yaml -q --images 4 --steps 8 --json " + a);
    ASSERT_EQ(r.status, 0) << r.output;
    const auto original = read_json(a);
    const auto& s = original["settings"];
    r = run("evaluate " + nir + " -q --images 4 --steps 8 --json " + b + " --set dataset.format=" +
            s["dataset.format"].get<std::string>() + " --set dataset.name=" + s["dataset.name"].get<std::string>() +
            " --set dataset.path=" + s["dataset.path"].get<std::string>() +
            " --set simulation.encoding=" + s["simulation.encoding"].get<std::string>());
    ASSERT_EQ(r.status, 0) << r.output;
    const auto exported = read_json(b);
    EXPECT_EQ(exported["snn"]["correct"], original["snn"]["correct"]);
    EXPECT_EQ(exported["snn"]["totals"]["spikes"], original["snn"]["totals"]["spikes"]);
    EXPECT_EQ(exported["snn"]["totals"]["sops"], original["snn"]["totals"]["sops"]);
    EXPECT_TRUE(exported["model"]["ann"].is_null());
}

}  // namespace
