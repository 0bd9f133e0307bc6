// `neuroemu explore`: design-space exploration over configuration keys (docs/explore.md).
#include <fmt/format.h>
#include <unistd.h>

#include <array>
#include <cmath>
#include <filesystem>
#include <memory>
#include <set>

#include "cli/commands.h"
#include "cli/output.h"
#include "cli/schema.h"
#include "common/error.h"
#include "common/parallel.h"
#include "experiment/point.h"
#include "explore/outputs.h"
#include "explore/runner.h"
#include "explore/sweep.h"
#include "mpi/world.h"

namespace neuroemu {
namespace {

struct ExploreOptions {
    std::string sweep;              // the sweep file
    std::string output;             // -o DIR; empty: <sweep name>.out next to the sweep file
    std::string cache;              // --cache DIR; empty: DIR/cache
    std::optional<std::string> jobs;  // --jobs N (overrides the sweep's `jobs`; 0 = all cores)
    std::string json_file;          // --json FILE
    bool dry_run = false;           // --dry-run: list the points and what is cached, run nothing
};

// `configs/sweeps/hardware.yaml` -> `configs/sweeps/hardware.out`.
std::string default_output(const std::string& sweep) {
    std::filesystem::path p(sweep);
    return (p.parent_path() / (p.stem().string() + ".out")).string();
}

// The running executable, which the children run too.
std::string self_executable() {
    std::array<char, 4096> buf{};
    const ssize_t n = readlink("/proc/self/exe", buf.data(), buf.size() - 1);
    return n > 0 ? std::string(buf.data(), static_cast<size_t>(n)) : std::string("/proc/self/exe");
}

// --jobs has the bounds of the sweep file's `jobs`.
const ParamSpec& jobs_param() {
    static const ParamSpec spec = ParamSpec("jobs", ParamKind::Int, "", "points",
                                            "points evaluated at once (default: the sweep's jobs; 0: all cores)")
                                      .range(0, static_cast<double>(explore::kMaxJobs));
    return spec;
}

// --dry-run: every point with its hash, and whether the cache holds it.
int dry_run(const explore::SweepPlan& plan, const std::string& cache) {
    std::set<std::string> seen, cached;
    for (const auto& p : plan.points) {
        const bool hit = std::filesystem::exists(std::filesystem::path(cache) / (p.hash + ".json"));
        if (hit) cached.insert(p.hash);
        seen.insert(p.hash);
        fmt::print("point {} {} {}: {}\n", p.point.index, p.hash, hit ? "cached" : "to compute",
                   fmt::join(p.point.overrides(), ", "));
    }
    fmt::print("explore (dry run): {} points, {} distinct, {} cached, {} to compute\n", plan.points.size(), seen.size(),
               cached.size(), seen.size() - cached.size());
    return 0;
}

nlohmann::json explore_json(const ExploreOptions& cmd, const explore::SweepSpec& spec, int jobs,
                            const explore::RunSummary& summary, size_t front, const std::string& out_dir,
                            const std::string& cache, const explore::OutputFiles& files) {
    return {{"command", "explore"},
            {"sweep", cmd.sweep},
            {"mode", explore::to_string(spec.mode)},
            {"jobs", jobs},
            {"summary", {{"points", summary.points}, {"distinct", summary.distinct}, {"computed", summary.computed},
                         {"cached", summary.cached}, {"conversions", summary.conversions}, {"ok", summary.ok},
                         {"does_not_fit", summary.does_not_fit}, {"failed", summary.failed}, {"pareto", front}}},
            {"seconds", summary.seconds},
            {"output", out_dir},
            {"cache", cache},
            {"files", {{"points_csv", files.points_csv}, {"points_json", files.points_json},
                       {"pareto_csv", files.pareto_csv}, {"pareto_json", files.pareto_json},
                       {"pareto_svg", files.pareto_svg}, {"html", files.html}}}};
}

void print_front(const explore::SweepPlan& plan, const explore::RunSummary& summary, const std::vector<size_t>& front) {
    fmt::print("Pareto front ({} points):\n", front.size());
    for (size_t row : front)
        fmt::print("  point {} ({}):{}\n", plan.points[row].point.index,
                   fmt::join(plan.points[row].point.overrides(), ", "), explore::metrics_text(summary.results[row]));
}

int run_explore(const ExploreOptions& cmd, int verbosity) {
    const std::optional<int64_t> jobs_option =
        cmd.jobs ? std::optional<int64_t>(spec_int("--jobs", jobs_param(), cmd.jobs)) : std::nullopt;
    const Schema schema = neuroemu_schema();
    explore::SweepSpec spec = explore::parse_sweep(cmd.sweep, schema);
    if (jobs_option) spec.jobs = *jobs_option;
    const int jobs = resolve_threads(spec.jobs);
    const explore::SweepPlan plan = explore::plan_sweep(spec, schema);
    const std::string out_dir = cmd.output.empty() ? default_output(cmd.sweep) : cmd.output;
    const std::string cache = cmd.cache.empty() ? (std::filesystem::path(out_dir) / "cache").string() : cmd.cache;
    if (verbosity >= 1 && mpi::root())
        fmt::print("explore {}: {} points, mode {}, {} jobs{}, cache {}\n", cmd.sweep, plan.points.size(),
                   explore::to_string(spec.mode), jobs,
                   mpi::distributed() ? fmt::format(" on each of {} ranks", mpi::size()) : "", cache);
    if (cmd.dry_run) return mpi::root() ? dry_run(plan, cache) : 0;

    explore::RunOptions run;
    run.executable = self_executable();
    run.cache_dir = cache;
    run.jobs = jobs;
    if (verbosity >= 1) run.progress = [](const std::string& line) { fmt::print("{}\n", line), std::fflush(stdout); };
    const explore::RunSummary summary = explore::run_sweep(plan, run);
    if (!mpi::root()) return summary.interrupted ? 130 : 0;  // rank 0 holds every result and writes the outputs
    if (summary.interrupted) {
        fmt::print(stderr, "neuroemu: explore interrupted: {} of {} distinct points are in the cache {}; run the same "
                           "command again to resume\n",
                   summary.cached + summary.computed, summary.distinct, cache);
        return 130;
    }
    const explore::OutputFiles files = explore::write_outputs(plan, summary, out_dir);
    const std::vector<size_t> front = explore::sweep_front(plan, summary);
    if (verbosity >= 1) print_front(plan, summary, front);
    fmt::print("explore: {} points: {} ok, {} do not fit, {} failed; {} computed, {} cached; Pareto front {} points; "
               "{:.1f} s; results in {}\n",
               summary.points, summary.ok, summary.does_not_fit, summary.failed, summary.computed, summary.cached,
               front.size(), summary.seconds, out_dir);
    if (!cmd.json_file.empty())
        write_json_file(cmd.json_file, explore_json(cmd, spec, jobs, summary, front.size(), out_dir, cache, files));
    return 0;
}

// One point in this process: the experiment library's call, its result written for the sweep to read.
int run_explore_point(const CommonOptions& opts, const std::string& snn) {
    if (opts.json_file.empty()) throw ConfigError("explore-point: give --json FILE for the point's result");
    const Settings settings = load_experiment(opts);
    write_json_file(opts.json_file, experiment::point_result_json(experiment::run_point(settings, snn)));
    return 0;
}

}  // namespace

Command add_explore_command(CLI::App& app, CommonOptions& common) {
    CLI::App* cmd = app.add_subcommand("explore", "design-space exploration: grid or random sweeps over configuration "
                                       "keys, cached and resumable, with the Pareto front");
    auto options = std::make_shared<ExploreOptions>();
    cmd->add_option("sweep", options->sweep, "sweep file (docs/explore.md)")->required();
    cmd->add_option("-o,--output", options->output, "output directory (default: <sweep name>.out next to it)");
    cmd->add_option("--cache", options->cache, "cache directory (default: DIR/cache)");
    add_spec_option(cmd, "--jobs", jobs_param(), options->jobs)->type_name("N");
    cmd->add_option("--json", options->json_file, "also write the summary and the paths written to FILE");
    cmd->add_flag("--dry-run", options->dry_run, "validate the sweep and list its points, cached or not; run nothing");
    cmd->add_flag("-q,--quiet", common.quiet, "print only the result");
    cmd->add_flag("-v,--verbose", common.verbose, "print timing and details");
    return {cmd, [&common, options] { return run_explore(*options, common.verbosity()); }, /*distributed=*/true};
}

Command add_explore_point_command(CLI::App& app, CommonOptions& common) {
    CLI::App* cmd = app.add_subcommand("explore-point", "one point of a sweep (run by explore)");
    cmd->group("");  // internal: not listed in --help
    add_common_options(cmd, common);
    auto snn = std::make_shared<std::string>();
    add_snn_option(cmd, *snn);
    return {cmd, [&common, snn] { return run_explore_point(common, *snn); }};
}

}  // namespace neuroemu
