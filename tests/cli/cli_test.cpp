// End-to-end tests of the `neuroemu` executable: exit codes, messages and --json results.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace {

const std::string kSrc = NEUROEMU_SOURCE_DIR;

struct CliRun {
    int status;
    std::string output;  // stdout and stderr
};

CliRun run(const std::string& args) {
    const std::string cmd = std::string(NEUROEMU_EXE) + " " + args + " 2>&1";
    FILE* p = popen(cmd.c_str(), "r");
    std::string out;
    std::array<char, 4096> buf;
    while (size_t n = fread(buf.data(), 1, buf.size(), p)) out.append(buf.data(), n);
    const int status = pclose(p);
    return {WEXITSTATUS(status), out};
}

nlohmann::json read_json(const std::string& path) {
    std::ifstream in(path);
    return nlohmann::json::parse(in);
}

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

}  // namespace
