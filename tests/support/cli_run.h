// Running the `neuroemu` executable from a test: exit status and output, JSON results. Tests that include this
// define NEUROEMU_EXE (tests/CMakeLists.txt).
#pragma once

#include <sys/wait.h>

#include <array>
#include <filesystem>
#include <cstdio>
#include <fstream>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

namespace neuroemu::cli_test {

struct CliRun {
    int status;
    std::string output;  // stdout and stderr
};

// Runs shell command `cmd` with stderr joined to stdout: its exit status and output.
inline CliRun capture(const std::string& cmd) {
    FILE* p = popen((cmd + " 2>&1").c_str(), "r");
    std::string out;
    std::array<char, 4096> buf;
    while (size_t n = fread(buf.data(), 1, buf.size(), p)) out.append(buf.data(), n);
    const int status = pclose(p);
    return {WEXITSTATUS(status), out};
}

inline std::string in_folder(const std::string& cwd) { return cwd.empty() ? "" : "cd '" + cwd + "' && "; }

// Runs `neuroemu ARGS` (from folder `cwd` when given).
inline CliRun run(const std::string& args, const std::string& cwd = "") {
    return capture(in_folder(cwd) + NEUROEMU_EXE + " " + args);
}

// Runs `mpirun -np RANKS neuroemu ARGS` (as root and with more ranks than cores allowed, as CI needs), with
// `env` (e.g. "NEUROEMU_FAULT_RANK=1") set for every rank.
inline CliRun run_mpi(int ranks, const std::string& args, const std::string& cwd = "", const std::string& env = "") {
    return capture(in_folder(cwd) + env + (env.empty() ? "" : " ") + "mpirun --allow-run-as-root --oversubscribe -np " +
                   std::to_string(ranks) + " " + NEUROEMU_EXE + " " + args);
}

// File `name` in the build tree's folder `folder` (created on first use): a test's outputs.
inline std::string build_file(const std::string& folder, const std::string& name) {
    const auto dir = std::filesystem::path(NEUROEMU_BINARY_DIR) / folder;
    std::filesystem::create_directories(dir);
    return (dir / name).string();
}

// `neuroemu convert CONFIG -o SNN`: one converted model for a test's runs (conversion calibrates on training
// images, the slow part of a run; under mpirun every rank would convert it again).
inline std::string converted_model(const std::string& config, const std::string& snn) {
    const CliRun r = run("convert " + config + " -q -o " + snn);
    EXPECT_EQ(r.status, 0) << r.output;
    return snn;
}

inline std::string file_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

inline nlohmann::json read_json(const std::string& path) { return nlohmann::json::parse(file_bytes(path)); }

}  // namespace neuroemu::cli_test
