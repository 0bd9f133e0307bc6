// End-to-end tests of the `neuroemu` executable: exit codes, messages and --json results.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/support/cli_run.h"

namespace {

const std::string kSrc = NEUROEMU_SOURCE_DIR;

using neuroemu::cli_test::CliRun;
using neuroemu::cli_test::read_json;
using neuroemu::cli_test::run;

std::string temp(const std::string& name) {
    return (std::filesystem::temp_directory_path() / ("neuroemu_cli_" + name)).string();
}

TEST(Cli, InfoOnZooResnet34PrintsTorchvisionCountsAndWritesJson) {
    const std::string json = temp("info.json");
    const CliRun r = run("info " + kSrc + "/configs/resnet34.yaml --json " + json);
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_NE(r.output.find("21,797,672 params, 3,663,761,408 MACs"), std::string::npos) << r.output;
    const auto j = read_json(json);
    EXPECT_EQ(j["model"]["totals"]["params"], 21797672);
    EXPECT_EQ(j["model"]["totals"]["macs"], 3663761408);
    EXPECT_EQ(j["chip"]["neurons_per_core"], 256);
}

TEST(Cli, ConfigReferenceInDocsMatchesTheCode) {
    const CliRun r = run("--config-reference");
    ASSERT_EQ(r.status, 0);
    std::ifstream in(kSrc + "/docs/config.md");
    std::stringstream doc;
    doc << in.rdbuf();
    EXPECT_EQ(doc.str(), r.output) << "regenerate with: build/cli/neuroemu --config-reference > docs/config.md";
}

TEST(Cli, ListShowsEveryFamilyAndImplementationWithParameters) {
    const std::string json = temp("list.json");
    const CliRun r = run("list --json " + json);
    ASSERT_EQ(r.status, 0) << r.output;
    for (const char* word : {"dataset_reader (dataset.format)", "  idx:", "encoding (simulation.encoding)", "  current:",
                             "  poisson:", "neuron (no key)", "  if:", "placement (mapping.placement)", "  curve:",
                             "  row_major:", "multicast (chip.noc.multicast)", "  tree:", "  source:",
                             "routing (no key)", "  xy:", "traffic (no key)", "  uniform:", "  transpose:",
                             "  hotspot:", "core_model (no key)", "  rolls:"})
        EXPECT_NE(r.output.find(word), std::string::npos) << word << " missing from:\n" << r.output;
    const auto j = read_json(json);
    ASSERT_EQ(j["command"], "list");
    std::vector<std::string> families;
    for (const auto& f : j["families"]) families.push_back(f["family"]);
    EXPECT_EQ(families, (std::vector<std::string>{"dataset_reader", "encoding", "neuron", "placement", "multicast",
                                                  "routing", "traffic", "core_model"}));
    EXPECT_EQ(j["families"][3]["implementations"][0]["name"], "curve");
}

TEST(Cli, EvaluateAnnOnTheDefaultModel) {
    const std::string json = temp("eval.json");
    const CliRun r = run("evaluate " + kSrc + "/configs/default.yaml --ann --images 200 -q --json " + json);
    ASSERT_EQ(r.status, 0) << r.output;
    const auto j = read_json(json);
    EXPECT_EQ(j["ann"]["images"], 200);
    EXPECT_DOUBLE_EQ(j["ann"]["top1"].get<double>(), j["ann"]["correct"].get<double>() / 200.0);
    EXPECT_GT(j["ann"]["top1"].get<double>(), 0.8);
}

TEST(Cli, BadInputGivesAClearErrorAndNonZeroExit) {
    CliRun r = run("evaluate " + kSrc + "/configs/default.yaml --ann --steps 10");
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.output.find("--ann evaluates the ANN alone"), std::string::npos) << r.output;
    r = run("info " + kSrc + "/configs/resnet34.yaml --set model.zoo=resnet19");
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.output.find("--set model.zoo=resnet19: model.zoo: expected one of"), std::string::npos) << r.output;
    r = run("info /nonexistent.yaml");
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.output.find("/nonexistent.yaml: cannot open"), std::string::npos) << r.output;
    r = run("info --set model.onnx=/nonexistent.onnx");
    EXPECT_NE(r.status, 0);
    EXPECT_NE(r.output.find("no such file"), std::string::npos) << r.output;
    r = run("evaluate --ann --images -3");
    EXPECT_NE(r.status, 0);
    r = run("frobnicate");
    EXPECT_NE(r.status, 0);
}

// convert writes a .snn file; evaluating it gives exactly what converting in memory gives (same calibration, same
// simulation), and the JSON's totals are consistent with its per-population and per-projection counts.
TEST(Cli, ConvertThenEvaluateMatchesInMemoryConversion) {
    const std::string snn = temp("r8.snn"), cj = temp("convert.json"), a = temp("snn_a.json"), b = temp("snn_b.json");
    const std::string common = " --set model.onnx=" + kSrc + "/models/resnet8_fmnist.onnx --set conversion.calibration_images=100"
                               " --set simulation.threads=2 -q";
    CliRun r = run("convert " + kSrc + "/configs/default.yaml -o " + snn + " --json " + cj + common);
    ASSERT_EQ(r.status, 0) << r.output;
    const auto conv = read_json(cj);
    EXPECT_EQ(conv["snn"]["if_neurons"], conv["model"]["totals"]["if_neurons"]);
    r = run("evaluate " + kSrc + "/configs/default.yaml --snn " + snn + " --steps 40 --images 30 --json " + a + common);
    ASSERT_EQ(r.status, 0) << r.output;
    r = run("evaluate " + kSrc + "/configs/default.yaml --steps 40 --images 30 --json " + b + common);
    ASSERT_EQ(r.status, 0) << r.output;
    // Without the ANN comparison: the same simulation, but no ANN accuracy and no propagation error.
    const std::string c = temp("snn_c.json");
    r = run("evaluate " + kSrc + "/configs/default.yaml --snn " + snn + " --steps 40 --images 30 --json " + c + common +
            " --set simulation.compare_ann=false");
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_EQ(r.output.find("ANN"), std::string::npos) << r.output;
    const auto ja = read_json(a), jb = read_json(b), jc = read_json(c);
    EXPECT_EQ(ja["snn"]["accuracy_curve"], jb["snn"]["accuracy_curve"]);
    EXPECT_EQ(ja["snn"]["totals"], jb["snn"]["totals"]);
    EXPECT_EQ(jc["snn"]["accuracy_curve"], ja["snn"]["accuracy_curve"]);
    EXPECT_EQ(jc["snn"]["totals"], ja["snn"]["totals"]);
    EXPECT_TRUE(ja["snn"]["ann_top1"].is_number());
    EXPECT_TRUE(jc["snn"]["ann_top1"].is_null());
    EXPECT_TRUE(ja["snn"]["populations"][1].contains("accumulated_error"));
    EXPECT_FALSE(jc["snn"]["populations"][1].contains("accumulated_error"));
    EXPECT_EQ(ja["snn"]["accuracy_curve"].size(), 40u);
    int64_t sops_in = 0, sops_out = 0, proj = 0;
    for (const auto& p : ja["snn"]["populations"]) sops_in += p["sops_in"].get<int64_t>(), sops_out += p["sops_out"].get<int64_t>();
    for (const auto& p : ja["snn"]["projections"]) proj += p["sops"].get<int64_t>();
    EXPECT_EQ(sops_in, ja["snn"]["totals"]["sops"].get<int64_t>());
    EXPECT_EQ(sops_out, sops_in);
    EXPECT_EQ(proj, sops_in);
    EXPECT_GT(sops_in, 0);
}

TEST(Cli, BadConversionSettingsAreClearErrors) {
    CliRun r = run("convert " + kSrc + "/configs/default.yaml -o " + temp("x.snn") + " --set conversion.percentile=0");
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.output.find("conversion.percentile: 0 is not in (0, 100]"), std::string::npos) << r.output;
    r = run("convert " + kSrc + "/configs/default.yaml --set conversion.percentile=100.5");
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.output.find("conversion.percentile"), std::string::npos) << r.output;
    r = run("evaluate " + kSrc + "/configs/default.yaml --set simulation.steps=0");
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.output.find("simulation.steps"), std::string::npos) << r.output;
    r = run("evaluate " + kSrc + "/configs/default.yaml --steps 0");
    EXPECT_NE(r.status, 0);
    r = run("evaluate " + kSrc + "/configs/default.yaml --steps 70000");  // spike counts are 16-bit
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.output.find("simulation.steps"), std::string::npos) << r.output;
    r = run("convert " + kSrc + "/configs/default.yaml -o " + temp("x.snn") + " --set dataset.path=/nonexistent");
    EXPECT_NE(r.status, 0);
    EXPECT_NE(r.output.find("/nonexistent"), std::string::npos) << r.output;
    r = run("convert " + kSrc + "/configs/default.yaml -o " + temp("x.snn") + " --set conversion.calibration_images=70000");
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.output.find("the training split has 60000 images"), std::string::npos) << r.output;
    r = run("evaluate " + kSrc + "/configs/default.yaml --snn " + kSrc + "/configs/default.yaml --steps 5");
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.output.find("not a neuroemu .snn file"), std::string::npos) << r.output;
    r = run("convert " + kSrc + "/configs/default.yaml --set conversion.channel_thresholds=true");
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.output.find("needs conversion.channel_wise"), std::string::npos) << r.output;
}

}  // namespace

// `neuroemu map` on the headline case: every IF neuron of zoo ResNet-34 is mapped (the count agrees with
// `info`, which counts from the ANN), the core count respects every lower bound, and the mapping file is written.
TEST(Cli, MapResnet34WritesAMappingAndAReport) {
    const std::string json = temp("map34.json"), out = temp("map34.map"), info = temp("info34.json");
    CliRun r = run("info " + kSrc + "/configs/resnet34.yaml -q --json " + info);
    ASSERT_EQ(r.status, 0) << r.output;
    r = run("map " + kSrc + "/configs/resnet34.yaml --set mapping.traffic=estimate -o " + out + " --json " + json);
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_NE(r.output.find("binding resource: fan-in"), std::string::npos) << r.output;
    const auto j = read_json(json);
    EXPECT_EQ(j["bounds"]["if_neurons"], read_json(info)["model"]["totals"]["if_neurons"]);
    const int64_t cores = j["cores"];
    EXPECT_GE(cores, j["bounds"]["cores_from_neurons"].get<int64_t>());
    EXPECT_GE(cores, j["bounds"]["cores_from_units"].get<int64_t>());
    EXPECT_GE(cores, j["bounds"]["cores_from_synapses"].get<int64_t>());
    EXPECT_EQ(j["traffic_source"], "estimate");
    EXPECT_GE(j["mesh"]["width"].get<int64_t>() * j["mesh"]["height"].get<int64_t>(), cores);
    int64_t layer_cores = 0;
    for (const auto& l : j["layers"]) layer_cores += l["cores"].get<int64_t>();
    EXPECT_EQ(layer_cores, cores);
    std::ifstream file(out);
    std::string first;
    std::getline(file, first);
    EXPECT_EQ(first, "neuroemu-mapping 2");
}

// The shipped model: rates measured by the spiking engine; another chip from its file on the command line.
TEST(Cli, MapDefaultModelWithMeasuredTrafficAndAnotherChip) {
    const std::string json = temp("map20.json"), loihi = temp("map20_loihi.json");
    const std::string quick = " -o '' -q --set mapping.traffic_images=2 --set simulation.steps=20";
    CliRun r = run("map " + kSrc + "/configs/default.yaml --json " + json + quick);
    ASSERT_EQ(r.status, 0) << r.output;
    r = run("map " + kSrc + "/configs/default.yaml --json " + loihi + quick + " --set chip=" + kSrc +
            "/configs/chips/loihi.yaml");
    ASSERT_EQ(r.status, 0) << r.output;
    const auto a = read_json(json), b = read_json(loihi);
    EXPECT_EQ(a["traffic_source"], "measured");
    EXPECT_GT(a["traffic_per_step"]["packets"].get<double>(), 0.0);
    EXPECT_EQ(b["chip"]["name"], "loihi");
    EXPECT_EQ(b["chip"]["neurons_per_core"], 1024);
    EXPECT_LT(b["cores"].get<int64_t>(), a["cores"].get<int64_t>());
    EXPECT_EQ(a["bounds"]["if_neurons"], b["bounds"]["if_neurons"]);
}

TEST(Cli, MapThatCannotFitNamesTheCause) {
    const std::string cfg = kSrc + "/configs/resnet34.yaml --set mapping.traffic=estimate -o '' -q";
    CliRun r = run("map " + cfg + " --set chip.noc.width=8 --set chip.noc.height=8");
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.output.find("1 chip(s) of 8 x 8 cores hold 64"), std::string::npos) << r.output;
    r = run("map " + cfg + " --set mapping.fan_in=fail");
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.output.find("layer 'layer1.0.relu' does not fit"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("chip.core.fan_in"), std::string::npos) << r.output;
    r = run("map " + cfg + " --set chip.noc.width=8");
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.output.find("chip.noc.width and chip.noc.height must both be 0"), std::string::npos) << r.output;
    r = run("map " + cfg + " --set chip.core.neurons=0");
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.output.find("chip.core.neurons"), std::string::npos) << r.output;
    r = run("map " + cfg + " --set chip.noc.flit_bits=8 --set chip.noc.buffer_depth=2");
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.output.find("chip.noc.buffer_depth 2 cannot hold one 4-flit AER packet"), std::string::npos) << r.output;
    r = run("map " + cfg + " --snn /nonexistent.snn");
    EXPECT_NE(r.status, 0);
    EXPECT_NE(r.output.find("/nonexistent.snn"), std::string::npos) << r.output;
}

// `neuroemu noc`: bad arguments are configuration errors (exit 2) naming the option.
TEST(Cli, NocBadArgumentsNameTheOption) {
    CliRun r = run("noc --mesh 8x --rate 0.1");
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.output.find("--mesh: '8x' is not a mesh size"), std::string::npos) << r.output;
    r = run("noc --mesh 8x8 --rate 1.5");
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.output.find("--rate: expected a finite number in [0, 1], got '1.5'"), std::string::npos) << r.output;
    r = run("noc --rate -0.1");
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.output.find("--rate"), std::string::npos) << r.output;
    r = run("noc --rate 0.1 --packet-flits 0");
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.output.find("--packet-flits: expected an integer in [1, 1048576], got '0'"), std::string::npos) << r.output;
    r = run("noc --rate 0.1 --warmup many");
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.output.find("--warmup: expected an integer in [0, 1099511627776], got 'many'"), std::string::npos) << r.output;
    r = run("noc --rate 0.1 --packet-flits 4 --set chip.noc.buffer_depth=1");
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.output.find("virtual cut-through"), std::string::npos) << r.output;
    r = run("noc --rate 0.1 --traffic tornado");
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.output.find("--traffic: 'tornado'"), std::string::npos) << r.output;
    r = run("noc --mesh 4x2 --rate 0.1 --traffic transpose");
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.output.find("square mesh"), std::string::npos) << r.output;
    r = run("noc --mesh 4x4");
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.output.find("--rate R is required"), std::string::npos) << r.output;
}

// Options that set a configuration key accept exactly what the key accepts, and a bad value is a configuration
// error (exit 2) naming the option, the key and the range, as a bad --set is.
TEST(Cli, OptionBoundsAreTheSchemasBounds) {
    const std::string cfg = kSrc + "/configs/default.yaml";
    CliRun r = run("evaluate " + cfg + " --steps 0");
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.output.find("--steps (simulation.steps): expected an integer in [1, 65535], got '0'"),
              std::string::npos) << r.output;
    r = run("simulate " + cfg + " --steps 65536");
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.output.find("[1, 65535]"), std::string::npos) << r.output;
    r = run("report " + cfg + " --images 0 --json /dev/null");
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.output.find("--images (dataset.images): expected an integer >= 1, got '0'"), std::string::npos) << r.output;
    r = run("report " + cfg + " --hw-images -1 --json /dev/null");
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.output.find("--hw-images (report.hw_images)"), std::string::npos) << r.output;
    r = run("info " + cfg + " --seed -1");
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.output.find("--seed (seed): expected an integer in [0, 9007199254740992], got '-1'"),
              std::string::npos) << r.output;
    r = run("explore " + kSrc + "/configs/sweeps/hardware.yaml --dry-run --jobs 5000");
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.output.find("--jobs: expected an integer in [0, 4096], got '5000'"), std::string::npos) << r.output;
    r = run("info " + cfg + " --set simulation.steps=0");
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.output.find("simulation.steps: expected an integer in [1, 65535]"), std::string::npos) << r.output;
}

// `map` writes a mapping file only where -o says: nothing lands in the working directory by default.
TEST(Cli, MapWritesNoMappingFileUnlessAsked) {
    const std::filesystem::path dir = temp("map_cwd");
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    const std::string json = (dir / "map.json").string();
    const std::string cmd = "cd " + dir.string() + " && " + NEUROEMU_EXE + " map " + kSrc +
                            "/configs/default.yaml --set mapping.traffic=estimate -q --json " + json + " > /dev/null";
    ASSERT_EQ(std::system(cmd.c_str()), 0);
    EXPECT_TRUE(read_json(json)["output"].is_null());
    size_t files = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) files += entry.path() != json;
    EXPECT_EQ(files, 0u) << "map wrote a file into its working directory";
}

// A small run writes the keys docs/cli.md documents; the same seed gives the same numbers.
TEST(Cli, NocWritesItsJsonAndRepeatsItself) {
    const std::string json = temp("noc.json"), again = temp("noc_again.json");
    const std::string args = "noc --mesh 4x4 --rate 0.05 --warmup 200 --cycles 3000 -q --set chip.noc.buffer_depth=8 --json ";
    CliRun r = run(args + json);
    ASSERT_EQ(r.status, 0) << r.output;
    ASSERT_EQ(run(args + again).status, 0);
    const auto j = read_json(json), k = read_json(again);
    EXPECT_EQ(j["command"], "noc");
    EXPECT_EQ(j["chip"]["buffer_depth"], 8);
    for (const char* key : {"clock_hz", "flit_bits", "pipeline_cycles", "link_cycles", "name"})
        EXPECT_TRUE(j["chip"].contains(key)) << key;
    EXPECT_EQ(j["mesh"]["width"], 4);
    EXPECT_EQ(j["mesh"]["nodes"], 16);
    EXPECT_EQ(j["traffic"]["pattern"], "uniform");
    EXPECT_EQ(j["traffic"]["packet_flits"], 1);
    EXPECT_TRUE(j["traffic"]["hotspot_node"].is_null());
    for (const char* key : {"warmup", "measure", "drain_bound", "drain", "total"})
        EXPECT_TRUE(j["cycles"].contains(key)) << key;
    EXPECT_NEAR(j["offered"]["packets_per_node_cycle"].get<double>(), 0.05, 0.01);
    EXPECT_TRUE(j["accepted"].contains("flits_per_node_cycle"));
    for (const char* key : {"mean", "max", "network_mean", "network_max", "zero_load"})
        EXPECT_TRUE(j["latency_cycles"].contains(key)) << key;
    EXPECT_GE(j["latency_cycles"]["mean"].get<double>(), j["latency_cycles"]["network_mean"].get<double>());
    EXPECT_NEAR(j["hops"]["expected"].get<double>(), 8.0 / 3.0, 1e-9);  // 2k/3 on a 4 x 4 mesh
    for (const char* key : {"channel_flits_per_node_cycle", "credit_flits_per_node_cycle", "max_link_load"})
        EXPECT_TRUE(j["bounds"].contains(key)) << key;
    EXPECT_EQ(j["packets"]["injected"], j["packets"]["delivered"]);
    for (const char* key : {"duplicates", "misrouted", "lost"}) EXPECT_EQ(j["packets"][key], 0) << key;
    EXPECT_EQ(j["saturated"], false);
    EXPECT_TRUE(j["saturation_reason"].is_null());
    EXPECT_GT(j["simulation"]["packet_hops"].get<int64_t>(), 0);
    EXPECT_TRUE(j["simulation"].contains("packet_hops_per_s"));
    EXPECT_EQ(j["settings"]["chip.noc.buffer_depth"], "8");
    EXPECT_EQ(j["latency_cycles"], k["latency_cycles"]);
    EXPECT_EQ(j["packets"], k["packets"]);
    EXPECT_EQ(j["accepted"], k["accepted"]);
}

// simulate carries the functional engine's spikes: its classification, step by step, equals `evaluate`'s on the
// same images, and its counters are consistent with each other.
TEST(Cli, SimulateMatchesTheFunctionalEngineOnTheShippedModel) {
    const std::string sim = temp("sim.json"), eval = temp("sim_eval.json");
    const std::string common = " --steps 12 --images 3 -q --set mapping.traffic_images=1 --set conversion.calibration_images=200";
    CliRun r = run("simulate " + kSrc + "/configs/default.yaml --json " + sim + common);
    ASSERT_EQ(r.status, 0) << r.output;
    r = run("evaluate " + kSrc + "/configs/default.yaml --json " + eval + common);
    ASSERT_EQ(r.status, 0) << r.output;
    const auto s = read_json(sim), e = read_json(eval);
    EXPECT_EQ(s["accuracy_curve"], e["snn"]["accuracy_curve"]);
    EXPECT_EQ(s["correct"], e["snn"]["correct"]);
    // SOPs: the engine's (plus its one-off input MACs, which the chip carries as input events) are the cores'.
    EXPECT_EQ(s["counters"]["sops"].get<int64_t>(),
              e["snn"]["totals"]["sops"].get<int64_t>() + e["snn"]["totals"]["input_macs"].get<int64_t>());
    EXPECT_EQ(s["cycles"]["per_tick"].size(), 36u);
    int64_t cycles = 0;
    for (const auto& c : s["cycles"]["per_tick"]) cycles += c.get<int64_t>();
    EXPECT_EQ(cycles, s["cycles"]["total"].get<int64_t>());
    EXPECT_GE(s["counters"]["deliveries"].get<int64_t>(), s["counters"]["packets"].get<int64_t>());
    r = run("simulate " + kSrc + "/configs/default.yaml --map /nonexistent.map" + common);
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.output.find("/nonexistent.map"), std::string::npos) << r.output;
}

namespace neuroemu_cli_names {

// Runs `args` from a fresh empty folder, so that nothing relative to the repository can be found by accident.
CliRun run_elsewhere(const std::string& folder, const std::string& args) {
    const std::string dir = temp(folder);
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    return run(args, dir);
}

TEST(Cli, BareNameIsLookedUpInConfigsAndNamed) {
    for (const char* name : {"resnet34.yaml", "resnet34"}) {
        const CliRun r = run_elsewhere("bare", std::string("info ") + name + " --json info.json");
        ASSERT_EQ(r.status, 0) << r.output;
        EXPECT_NE(r.output.find("neuroemu: using "), std::string::npos) << r.output;
        EXPECT_NE(r.output.find("configs/resnet34.yaml"), std::string::npos) << r.output;
        EXPECT_EQ(read_json(temp("bare") + "/info.json")["model"]["totals"]["macs"], 3663761408);
    }
    const CliRun missing = run_elsewhere("bare", "info resnet35.yaml");
    EXPECT_EQ(missing.status, 2) << missing.output;
    EXPECT_NE(missing.output.find("resnet35.yaml"), std::string::npos) << missing.output;
}

TEST(Cli, NoTargetRunsTheShippedDefaultExperiment) {
    const CliRun r = run_elsewhere("notarget", "simulate --trace out.vcd --images 1 --steps 4 --json sim.json");
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_NE(r.output.find("running the shipped default experiment"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("configs/default.yaml"), std::string::npos) << r.output;
    EXPECT_EQ(read_json(temp("notarget") + "/sim.json")["model"], "resnet20_fmnist");
    EXPECT_NE(neuroemu::cli_test::file_bytes(temp("notarget") + "/out.vcd").find("$enddefinitions"), std::string::npos);
}

}  // namespace neuroemu_cli_names
