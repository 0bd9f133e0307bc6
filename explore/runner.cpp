#include "explore/runner.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "common/error.h"
#include "mpi/pack.h"
#include "mpi/world.h"

namespace neuroemu::explore {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

volatile std::sig_atomic_t g_stop = 0;
extern "C" void on_stop_signal(int) { g_stop = 1; }

// SIGINT/SIGTERM set a flag for the sweep's lifetime (the loop then stops its children); the previous handlers
// come back afterwards.
class StopSignals {
public:
    StopSignals() {
        g_stop = 0;
        struct sigaction sa {};
        sa.sa_handler = on_stop_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, &old_int_);
        sigaction(SIGTERM, &sa, &old_term_);
    }
    ~StopSignals() {
        sigaction(SIGINT, &old_int_, nullptr);
        sigaction(SIGTERM, &old_term_, nullptr);
    }
    StopSignals(const StopSignals&) = delete;
    StopSignals& operator=(const StopSignals&) = delete;

private:
    struct sigaction old_int_ {}, old_term_ {};
};

enum class Kind { Convert, Point };
// Elsewhere: another rank's conversion (under mpirun), until that rank reports how it ended.
enum class State { Pending, Running, Done, Failed, Elsewhere };

struct Task {
    Kind kind = Kind::Point;
    std::string hash;
    std::vector<std::string> args;  // after the executable
    const std::vector<std::string>* overrides = nullptr;
    std::string tmp, final, log;    // output while running, its place in the cache, the child's stderr
    std::string snn;                // the converted model a point reads
    int dependency = -1;            // the conversion task this point waits for
    int threads = 1;
    State state = State::Pending;
    pid_t pid = -1;
    Clock::time_point start;
    double seconds = 0;
    std::string reason;             // when failed
    std::vector<size_t> rows;       // sweep points with this hash
};

// The last non-empty line a child wrote to standard error, without the program-name prefix.
std::string last_line(const std::string& path) {
    std::ifstream in(path);
    std::string line, last;
    while (std::getline(in, line))
        if (line.find_first_not_of(" \t\r") != std::string::npos) last = line;
    const std::string prefix = "neuroemu: ";
    if (last.compare(0, prefix.size(), prefix) == 0) last = last.substr(prefix.size());
    if (last.size() > 600) last = last.substr(0, 600) + "…";
    return last;
}

std::string failure_reason(int status, const std::string& log) {
    const std::string line = last_line(log);
    if (WIFSIGNALED(status))
        return fmt::format("killed by signal {} ({}){}", WTERMSIG(status), strsignal(WTERMSIG(status)),
                           line.empty() ? "" : ": " + line);
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return line.empty() ? fmt::format("exit status {}", code) : fmt::format("exit status {}: {}", code, line);
}

// This process's environment without the MPI launcher's variables: a child is a plain process of its own, never a
// rank (mpi::launched() would otherwise see mpirun's variables and make a `convert` child join a job).
const std::vector<std::string>& child_environment() {
    static const std::vector<std::string> env = [] {
        std::vector<std::string> out;
        for (char** e = environ; *e; ++e) {
            const std::string v = *e;
            if (v.rfind("OMPI_", 0) != 0 && v.rfind("PMIX_", 0) != 0 && v.rfind("PMI_", 0) != 0) out.push_back(v);
        }
        return out;
    }();
    return env;
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
    std::vector<char*> out;
    for (auto& s : strings) out.push_back(s.data());
    out.push_back(nullptr);
    return out;
}

// Starts `exe args...` with standard output discarded and standard error in `log`. The child dies with the
// sweep (a killed sweep leaves no orphan computing), and runs in its own process group, so a terminal's Ctrl-C
// reaches the sweep alone, which then stops its children.
pid_t spawn(const std::string& exe, const std::vector<std::string>& args, const std::string& log, std::string& error) {
    std::vector<std::string> all{exe};
    all.insert(all.end(), args.begin(), args.end());
    const std::vector<char*> argv = c_strings(all);
    std::vector<std::string> env_strings = child_environment();
    const std::vector<char*> envp = c_strings(env_strings);
    const int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    const int log_fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (null_fd < 0 || log_fd < 0) {
        error = fmt::format("cannot open {}: {}", null_fd < 0 ? "/dev/null" : log, std::strerror(errno));
        if (null_fd >= 0) close(null_fd);
        return -1;
    }
    const pid_t parent = getpid();
    const pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(127);
        setpgid(0, 0);
        dup2(null_fd, STDIN_FILENO);
        dup2(null_fd, STDOUT_FILENO);
        dup2(log_fd, STDERR_FILENO);
        execve(argv[0], argv.data(), envp.data());
        static const char msg[] = "neuroemu: error: explore: cannot execute the child command\n";
        [[maybe_unused]] const ssize_t n = write(STDERR_FILENO, msg, sizeof msg - 1);
        _exit(127);
    }
    const int fork_errno = errno;
    close(null_fd);
    close(log_fd);
    if (pid < 0) error = fmt::format("cannot start a child process: {}", std::strerror(fork_errno));
    return pid;
}

bool pid_alive(pid_t pid) { return pid > 0 && (kill(pid, 0) == 0 || errno != ESRCH); }

// Outputs of children of a sweep that no longer runs (killed): never complete, so removed.
void remove_stale_tmp(const fs::path& dir) {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
        const std::string name = e.path().filename().string();
        const auto a = name.find('.'), b = name.find('.', a == std::string::npos ? a : a + 1);
        if (a == std::string::npos || b == std::string::npos) continue;
        pid_t pid = 0;
        try {
            pid = static_cast<pid_t>(std::stol(name.substr(a + 1, b - a - 1)));
        } catch (const std::exception&) {
            continue;
        }
        if (!pid_alive(pid)) fs::remove(e.path(), ec);
    }
}

std::string summary_text(const PointResult& result) {
    switch (result.status) {
        case Status::Failed: return "failed: " + result.reason;
        case Status::DoesNotFit: return "does not fit: " + result.reason;
        case Status::Ok: break;
    }
    return "ok" + metrics_text(result);
}

class Scheduler {
public:
    Scheduler(const SweepPlan& plan, const RunOptions& opts, RunSummary& summary)
        : plan_(plan), opts_(opts), summary_(summary), cache_(opts.cache_dir) {}

    void run() {
        if (mpi::root()) prepare_cache();
        mpi::barrier();  // the folders exist and no stale output is left before any rank starts a child
        plan_tasks();
        StopSignals signals;
        if (!mpi::distributed()) return loop(std::nullopt);
        // Under mpirun every rank runs its share with a job pool of its own, in two phases so that no model is
        // converted twice at once: each conversion on one rank, then, once all are known, each point on one rank.
        loop(Kind::Convert);
        share_conversions();
        summary_.interrupted = mpi::any(summary_.interrupted);
        if (!summary_.interrupted) loop(Kind::Point);
        summary_.interrupted = mpi::any(summary_.interrupted);
        collect_results();
    }

private:
    void prepare_cache() {
        for (const char* sub : {"snn", "tmp", "log"}) {
            std::error_code ec;
            fs::create_directories(cache_ / sub, ec);
            if (ec) throw ConfigError(fmt::format("{}: cannot create the cache directory: {}", (cache_ / sub).string(),
                                                  ec.message()));
        }
        remove_stale_tmp(cache_ / "tmp");
    }

    // The point results and converted models the cache lacks. Rank 0 looks (and reads the cached results into the
    // summary); every rank gets its answer, so all of them plan the same tasks.
    struct Missing {
        std::set<std::string> results, models;
    };
    Missing find_missing(const std::vector<std::string>& order, std::map<std::string, std::vector<size_t>>& rows) {
        std::vector<std::string> results, models;
        if (mpi::root()) {
            for (const auto& h : order) {
                if (read_cached(h, rows[h])) continue;
                results.push_back(h);
                const std::string& conversion = plan_.points[rows[h].front()].conversion;
                if (!conversion.empty() && !fs::exists(cache_ / "snn" / (conversion + ".snn"))) models.push_back(conversion);
            }
        }
        mpi::Packer out;
        out.put(results).put(models);
        const std::string bytes = mpi::broadcast(out.take());
        mpi::Unpacker in(bytes);
        in.get(results), in.get(models);
        return {{results.begin(), results.end()}, {models.begin(), models.end()}};
    }

    // The cached result of hash `h` into the summary's rows; false when there is none (or it is not a result).
    bool read_cached(const std::string& h, const std::vector<size_t>& rows) {
        const fs::path result = cache_ / (h + ".json");
        if (!fs::exists(result)) return false;
        try {
            PointResult point_result = read_result_file(result.string());
            point_result.cached = true;
            for (size_t row : rows) summary_.results[row] = point_result;
            ++summary_.cached;
            return true;
        } catch (const Error&) {
            std::error_code ec;
            fs::remove(result, ec);  // not a result (written by something else): recompute
            return false;
        }
    }

    void plan_tasks() {
        std::map<std::string, size_t> first;  // hash -> its task (or a marker for cached hashes)
        std::vector<size_t> todo;             // rows whose hash needs computing, first of each hash
        std::map<std::string, std::vector<size_t>> rows;
        std::vector<std::string> order;
        for (size_t i = 0; i < plan_.points.size(); ++i) {
            const std::string& h = plan_.points[i].hash;
            if (!rows.count(h)) order.push_back(h);
            rows[h].push_back(i);
        }
        summary_.distinct = static_cast<int64_t>(order.size());
        const Missing missing = find_missing(order, rows);
        std::map<std::string, int> conversions;  // conversion hash -> task
        std::vector<Task> points;
        for (const auto& h : order) {
            if (!missing.results.count(h)) continue;
            const fs::path result = cache_ / (h + ".json");
            const PlannedPoint& pp = plan_.points[rows[h].front()];
            const fs::path snn = cache_ / "snn" / (pp.conversion + ".snn");
            Task t;
            t.kind = Kind::Point;
            t.hash = h;
            t.rows = rows[h];
            t.tmp = tmp_name(h, "json");
            t.final = result.string();
            t.log = (cache_ / "log" / (h + ".stderr")).string();
            if (missing.models.count(pp.conversion)) {
                auto it = conversions.find(pp.conversion);
                if (it == conversions.end()) {
                    Task c;
                    c.kind = Kind::Convert;
                    c.hash = pp.conversion;
                    c.tmp = tmp_name(pp.conversion, "snn");
                    c.final = snn.string();
                    c.log = (cache_ / "log" / ("convert-" + pp.conversion + ".stderr")).string();
                    c.overrides = &pp.overrides;
                    it = conversions.emplace(pp.conversion, static_cast<int>(tasks_.size())).first;
                    tasks_.push_back(std::move(c));
                }
                t.dependency = it->second;
            }
            t.overrides = &pp.overrides;
            t.snn = pp.conversion.empty() ? std::string() : snn.string();  // a NIR network runs as imported
            points.push_back(std::move(t));
        }
        // Under mpirun the i-th conversion and the i-th point go to rank i % ranks; a point keeps its conversion
        // task's index (conversions come first) whichever rank converts it.
        size_t my_conversions = 0;
        for (size_t i = 0; i < tasks_.size(); ++i)
            if (mine(i)) ++my_conversions;
            else tasks_[i].state = State::Elsewhere;
        std::vector<Task> my_points;
        for (size_t i = 0; i < points.size(); ++i)
            if (mine(i)) my_points.push_back(std::move(points[i]));
        // Threads per child: all `jobs` cores shared among the children that can run at once.
        const int conv_threads = threads_each(my_conversions);
        const int point_threads = threads_each(my_points.size());
        for (Task& c : tasks_) set_threads(c, conv_threads);
        for (Task& p : my_points) set_threads(p, point_threads);
        total_points_ = my_points.size();
        for (Task& p : my_points) tasks_.push_back(std::move(p));
    }

    static bool mine(size_t i) { return static_cast<int>(i % static_cast<size_t>(mpi::size())) == mpi::rank(); }

    int threads_each(size_t tasks) const {
        const int jobs = std::max(1, opts_.jobs);
        return tasks == 0 ? 1 : std::max(1, jobs / static_cast<int>(std::min<size_t>(static_cast<size_t>(jobs), tasks)));
    }

    // How each rank's conversions ended, to every rank: the points waiting for them start or fail as in one process.
    void share_conversions() {
        mpi::Packer out;
        for (size_t i = 0; i < tasks_.size(); ++i)
            if (tasks_[i].kind == Kind::Convert && tasks_[i].state != State::Elsewhere)
                out.put(static_cast<uint64_t>(i)).put(static_cast<int32_t>(tasks_[i].state)).put(tasks_[i].reason);
        for (const std::string& bytes : mpi::all_gather(out.take())) {
            mpi::Unpacker in(bytes);
            while (!in.done()) {
                Task& t = tasks_.at(in.get<uint64_t>());
                const auto state = static_cast<State>(in.get<int32_t>());
                std::string reason = in.get<std::string>();
                if (t.state != State::Elsewhere) continue;  // this rank's own
                t.state = state, t.reason = std::move(reason);
            }
        }
    }

    // Rank 0 gets every rank's points: a finished one read back from the cache, a failed one with its reason;
    // the counts are summed.
    void collect_results() {
        mpi::Packer out;
        for (const Task& t : tasks_)
            if (t.kind == Kind::Point && (t.state == State::Done || t.state == State::Failed))
                out.put(t.final).put(t.rows).put(t.state == State::Done).put(t.reason).put(t.seconds);
        const std::vector<std::string> parts = mpi::gather(out.take());
        for (size_t r = 1; r < parts.size(); ++r) {
            mpi::Unpacker in(parts[r]);
            while (!in.done()) {
                const auto final = in.get<std::string>();
                const auto rows = in.get<std::vector<size_t>>();
                const bool done = in.get<bool>();
                PointResult point_result;
                point_result.status = Status::Failed;
                point_result.reason = in.get<std::string>();
                try {
                    if (done) point_result = read_result_file(final);
                } catch (const Error& e) {  // the rank wrote it, but this one cannot read it (a shared file system)
                    point_result.reason = e.what();
                }
                point_result.seconds = in.get<double>();
                for (size_t row : rows) summary_.results[row] = point_result;
            }
        }
        summary_.computed = mpi::all_sum(summary_.computed);
        summary_.conversions = mpi::all_sum(summary_.conversions);
    }

    void set_threads(Task& t, int threads) const {
        t.threads = threads;
        t.args = t.kind == Kind::Convert ? convert_args(plan_.spec, *t.overrides, threads, t.tmp)
                                         : point_args(plan_.spec, *t.overrides, threads, t.snn, t.tmp);
    }

    std::string tmp_name(const std::string& hash, const std::string& ext) const {
        return (cache_ / "tmp" / fmt::format("{}.{}.{}", hash, getpid(), ext)).string();
    }

    // Runs the pending tasks (of kind `only`, when given) until none is left or the sweep is stopped.
    void loop(std::optional<Kind> only) {
        const int jobs = std::max(1, opts_.jobs);
        for (;;) {
            if (g_stop) return stop_all();
            int used = 0;
            bool pending = false;
            for (const Task& t : tasks_) {
                if (t.state == State::Running) used += t.threads;
                if ((t.state == State::Pending && (!only || t.kind == *only)) || t.state == State::Running) pending = true;
            }
            if (!pending) return;
            for (size_t i = 0; i < tasks_.size() && used < jobs; ++i) {
                Task& t = tasks_[i];
                if (t.state != State::Pending || (only && t.kind != *only)) continue;
                if (t.dependency >= 0) {
                    const Task& dep = tasks_[static_cast<size_t>(t.dependency)];
                    if (dep.state == State::Failed) {
                        fail(t, "conversion failed: " + dep.reason);
                        continue;
                    }
                    if (dep.state != State::Done) continue;
                }
                if (used > 0 && used + t.threads > jobs) break;
                launch(t);
                used += t.threads;
            }
            bool finished = false;
            for (Task& t : tasks_) {
                if (t.state != State::Running) continue;
                int status = 0;
                const pid_t r = waitpid(t.pid, &status, WNOHANG);
                if (r == t.pid) {
                    finish(t, status);
                    finished = true;
                }
            }
            if (!finished) std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    }

    void launch(Task& t) {
        std::string error;
        t.start = Clock::now();
        t.pid = spawn(opts_.executable, t.args, t.log, error);
        if (t.pid < 0) return fail(t, error);
        t.state = State::Running;
    }

    void finish(Task& t, int status) {
        t.seconds = std::chrono::duration<double>(Clock::now() - t.start).count();
        t.pid = -1;
        std::error_code ec;
        if (g_stop) {  // stopped with the sweep: not a result
            t.state = State::Failed;
            fs::remove(t.tmp, ec);
            return;
        }
        if (t.kind == Kind::Point) ++summary_.computed;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fs::remove(t.tmp, ec);
            return fail(t, failure_reason(status, t.log));
        }
        if (t.kind == Kind::Convert) {
            if (!fs::exists(t.tmp)) return fail(t, "the conversion wrote no model file");
            fs::rename(t.tmp, t.final, ec);
            if (ec) return fail(t, fmt::format("cannot move the model into the cache: {}", ec.message()));
            t.state = State::Done;
            ++summary_.conversions;
            remove_if_empty(t.log);
            progress(fmt::format("converted model {} ({:.1f} s)", t.hash, t.seconds));
            return;
        }
        PointResult point_result;
        try {
            point_result = read_result_file(t.tmp);
        } catch (const Error& e) {
            fs::remove(t.tmp, ec);
            return fail(t, e.what());
        }
        fs::rename(t.tmp, t.final, ec);  // atomic: the cache holds whole results only
        if (ec) return fail(t, fmt::format("cannot move the result into the cache: {}", ec.message()));
        point_result.seconds = t.seconds;
        t.state = State::Done;
        remove_if_empty(t.log);
        record(t, point_result);
    }

    void fail(Task& t, const std::string& reason) {
        t.state = State::Failed;
        t.reason = reason;
        if (t.kind == Kind::Convert) return progress(fmt::format("conversion {} failed: {}", t.hash, reason));
        PointResult point_result;
        point_result.status = Status::Failed;
        point_result.reason = reason;
        point_result.seconds = t.seconds;
        record(t, point_result);
    }

    void record(const Task& t, const PointResult& point_result) {
        ++done_points_;
        for (size_t row : t.rows) {
            summary_.results[row] = point_result;
            const Point& p = plan_.points[row].point;
            progress(fmt::format("[{}/{}] point {} ({}): {} ({:.1f} s)", done_points_, total_points_, p.index,
                                 fmt::join(p.overrides(), ", "), summary_text(point_result), point_result.seconds));
        }
    }

    void progress(const std::string& line) const {
        if (opts_.progress) opts_.progress(mpi::where() + line);
    }

    static void remove_if_empty(const std::string& path) {
        std::error_code ec;
        if (fs::exists(path, ec) && fs::file_size(path, ec) == 0) fs::remove(path, ec);
    }

    // Stop: SIGTERM to every child, SIGKILL after 3 s, and their partial outputs removed.
    void stop_all() {
        summary_.interrupted = true;
        for (Task& t : tasks_)
            if (t.state == State::Running) kill(t.pid, SIGTERM);
        const auto deadline = Clock::now() + std::chrono::seconds(3);
        for (Task& t : tasks_) {
            if (t.state != State::Running) continue;
            int status = 0;
            while (waitpid(t.pid, &status, WNOHANG) == 0) {
                if (Clock::now() > deadline) {
                    kill(t.pid, SIGKILL);
                    waitpid(t.pid, &status, 0);
                    break;
                }
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
            }
            t.state = State::Failed;
            std::error_code ec;
            fs::remove(t.tmp, ec);
        }
    }

    const SweepPlan& plan_;
    const RunOptions& opts_;
    RunSummary& summary_;
    fs::path cache_;
    std::vector<Task> tasks_;
    size_t total_points_ = 0, done_points_ = 0;
};

}  // namespace

std::optional<double> PointResult::metric(Metric m) const {
    switch (m) {
        case Metric::Accuracy: return accuracy;
        case Metric::EnergyJ: return energy_j;
        case Metric::LatencyS: return latency_s;
        case Metric::Cores:
            if (cores) return static_cast<double>(*cores);
            return std::nullopt;
    }
    return std::nullopt;
}

std::string metrics_text(const PointResult& result) {
    std::string text;
    if (result.accuracy) text += fmt::format("  accuracy {:.2f}%", 100 * *result.accuracy);
    if (result.energy_j) text += fmt::format("  energy {:.4g} J", *result.energy_j);
    if (result.latency_s) text += fmt::format("  latency {:.4g} ms", 1e3 * *result.latency_s);
    if (result.cores) text += fmt::format("  cores {}", *result.cores);
    return text;
}

PointResult read_result_file(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw DataError(fmt::format("{}: no result file", path));
    nlohmann::json doc;
    try {
        doc = nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception& e) {
        throw DataError(fmt::format("{}: not valid JSON: {}", path, e.what()));
    }
    PointResult result;
    static_cast<experiment::PointResult&>(result) = experiment::point_result_from_json(doc, path);
    return result;
}

std::vector<std::string> convert_args(const SweepSpec& spec, const std::vector<std::string>& overrides, int threads,
                                      const std::string& snn_out) {
    std::vector<std::string> args{"convert"};
    if (!spec.experiment.empty()) args.push_back(spec.experiment);
    for (const auto& o : overrides) args.insert(args.end(), {"--set", o});
    args.insert(args.end(), {"--set", fmt::format("simulation.threads={}", threads), "-o", snn_out, "-q"});
    return args;
}

std::vector<std::string> point_args(const SweepSpec& spec, const std::vector<std::string>& overrides, int threads,
                                    const std::string& snn, const std::string& json_out) {
    std::vector<std::string> args{"explore-point"};
    if (!spec.experiment.empty()) args.push_back(spec.experiment);
    for (const auto& o : overrides) args.insert(args.end(), {"--set", o});
    args.insert(args.end(), {"--set", fmt::format("simulation.threads={}", threads), "--set",
                             fmt::format("report.hw_images={}", spec.hw_images)});
    if (!snn.empty()) args.insert(args.end(), {"--snn", snn});
    args.insert(args.end(), {"--json", json_out, "-q"});
    return args;
}

RunSummary run_sweep(const SweepPlan& plan, const RunOptions& options) {
    const auto start = Clock::now();
    RunSummary s;
    s.points = static_cast<int64_t>(plan.points.size());
    PointResult not_run;
    not_run.reason = "not run: the sweep was interrupted";
    s.results.assign(plan.points.size(), not_run);
    Scheduler(plan, options, s).run();
    for (const auto& r : s.results) {
        if (r.status == Status::Ok) ++s.ok;
        else if (r.status == Status::DoesNotFit) ++s.does_not_fit;
        else ++s.failed;
    }
    s.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    return s;
}

}  // namespace neuroemu::explore
