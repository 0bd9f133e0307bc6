// Running the `neuroemu` executable from a test: exit status and output, JSON results. Tests that include this
// define NEUROEMU_EXE (tests/CMakeLists.txt).
#pragma once

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

namespace neuroemu::cli_test {

struct CliRun {
    int status;
    std::string output;  // stdout and stderr
};

// Runs `neuroemu ARGS` (from folder `cwd` when given).
inline CliRun run(const std::string& args, const std::string& cwd = "") {
    const std::string cmd = (cwd.empty() ? "" : "cd '" + cwd + "' && ") + NEUROEMU_EXE + " " + args + " 2>&1";
    FILE* p = popen(cmd.c_str(), "r");
    std::string out;
    std::array<char, 4096> buf;
    while (size_t n = fread(buf.data(), 1, buf.size(), p)) out.append(buf.data(), n);
    const int status = pclose(p);
    return {WEXITSTATUS(status), out};
}

// Runs `mpirun -np RANKS neuroemu ARGS` (as root and with more ranks than cores allowed, as CI needs), with
// `env` (e.g. "NEUROEMU_FAULT_RANK=1") set for every rank.
inline CliRun run_mpi(int ranks, const std::string& args, const std::string& cwd = "", const std::string& env = "") {
    const std::string cmd = (cwd.empty() ? "" : "cd '" + cwd + "' && ") + env + (env.empty() ? "" : " ") +
                            "mpirun --allow-run-as-root --oversubscribe -np " + std::to_string(ranks) + " " +
                            NEUROEMU_EXE + " " + args + " 2>&1";
    FILE* p = popen(cmd.c_str(), "r");
    std::string out;
    std::array<char, 4096> buf;
    while (size_t n = fread(buf.data(), 1, buf.size(), p)) out.append(buf.data(), n);
    const int status = pclose(p);
    return {WEXITSTATUS(status), out};
}

inline std::string file_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

inline nlohmann::json read_json(const std::string& path) { return nlohmann::json::parse(file_bytes(path)); }

}  // namespace neuroemu::cli_test
