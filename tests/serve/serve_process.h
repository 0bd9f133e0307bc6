// `neuroemu serve` as a child process for the CLI tests: its ports read back from --port-file, its stdout and
// stderr in files of the build tree, signals, a bounded wait for its exit, and SIGKILL if a test ends without it.
// Tests that include this define NEUROEMU_EXE (tests/CMakeLists.txt).
#pragma once

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/support/cli_run.h"

extern char** environ;

namespace neuroemu::serve_test {

class ServeProcess {
public:
    // `neuroemu serve ARGS --port-file F`, its files named NAME.* in the build tree's folder `folder`. Waits
    // (bounded: a server that never writes its ports fails the test instead of hanging it) for the port file.
    ServeProcess(const std::string& args, const std::string& folder, const std::string& name) {
        port_file_ = cli_test::build_file(folder, name + ".ports.json");
        out_ = cli_test::build_file(folder, name + ".out");
        err_ = cli_test::build_file(folder, name + ".err");
        std::filesystem::remove(port_file_);
        // `exec`: the shell becomes the server, so pid_ is the server's and signals reach it.
        const std::string cmd = std::string("exec ") + NEUROEMU_EXE + " serve " + args + " --port-file " + port_file_ +
                                " >" + out_ + " 2>" + err_;
        const char* argv[] = {"/bin/sh", "-c", cmd.c_str(), nullptr};
        if (posix_spawn(&pid_, "/bin/sh", nullptr, nullptr, const_cast<char**>(argv), environ) != 0) pid_ = -1;
        for (int i = 0; i < kWaitSteps && !std::filesystem::exists(port_file_) && alive(); ++i)
            std::this_thread::sleep_for(kStep);
        if (std::filesystem::exists(port_file_)) ports_ = cli_test::read_json(port_file_);
    }
    ~ServeProcess() {
        if (pid_ > 0 && !exited_) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
    }
    ServeProcess(const ServeProcess&) = delete;
    ServeProcess& operator=(const ServeProcess&) = delete;

    bool started() const { return !ports_.is_null(); }
    const nlohmann::json& ports() const { return ports_; }
    uint16_t udp() const { return ports_["udp"]; }
    uint16_t control() const { return ports_["control"]; }
    bool alive() {
        if (pid_ > 0 && !exited_ && ::waitpid(pid_, &status_, WNOHANG) == pid_) exited_ = true;
        return pid_ > 0 && !exited_;
    }
    void signal(int sig) { ::kill(pid_, sig); }
    // The exit status after waiting (bounded: a hung server fails the test instead of hanging it).
    int wait_exit() {
        for (int i = 0; i < kWaitSteps && alive(); ++i) std::this_thread::sleep_for(kStep);
        if (exited_) return WIFEXITED(status_) ? WEXITSTATUS(status_) : 128 + WTERMSIG(status_);
        ADD_FAILURE() << "the server did not exit";
        return -1;
    }
    std::string out() const { return cli_test::file_bytes(out_); }
    std::string err() const { return cli_test::file_bytes(err_); }
    // VmRSS from /proc/PID/status, in bytes.
    int64_t rss_bytes() const {
        std::ifstream in("/proc/" + std::to_string(pid_) + "/status");
        for (std::string line; std::getline(in, line);)
            if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6)) * 1024;
        return -1;
    }

private:
    // 3 min in 10 ms steps: startup converts the model when no --snn is given (seconds on a loaded 2-core machine,
    // over a minute under ThreadSanitizer, scripts/tsan.sh); a server that starts returns at once.
    static constexpr int kWaitSteps = 18000;
    static constexpr std::chrono::milliseconds kStep{10};

    pid_t pid_ = -1;
    int status_ = 0;
    bool exited_ = false;
    std::string port_file_, out_, err_;
    nlohmann::json ports_;
};

}  // namespace neuroemu::serve_test
