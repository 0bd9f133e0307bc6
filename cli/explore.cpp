// `neuroemu explore`: design-space exploration over configuration keys (docs/explore.md).
#include <fmt/format.h>
#include <unistd.h>

#include <array>
#include <cmath>
#include <filesystem>
#include <set>

#include "cli/commands.h"
#include "cli/output.h"
#include "cli/schema.h"
#include "common/parallel.h"
#include "explore/outputs.h"
#include "explore/runner.h"
#include "explore/sweep.h"

namespace neuroemu {
namespace {

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

std::string result_text(const explore::PointResult& r) {
    std::string s;
    if (r.accuracy) s += fmt::format("  accuracy {:.2f}%", 100 * *r.accuracy);
    if (r.energy_j) s += fmt::format("  energy {:.4g} J", *r.energy_j);
    if (r.latency_s) s += fmt::format("  latency {:.4g} ms", 1e3 * *r.latency_s);
    if (r.cores) s += fmt::format("  cores {}", *r.cores);
    return s;
}

// --dry-run: every point with its hash, and whether the cache holds it.
int dry_run(const explore::Plan& plan, const std::string& cache) {
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

}  // namespace

int run_explore(const ExploreOptions& cmd, int verbosity) {
    const Schema schema = neuroemu_schema();
    explore::SweepSpec spec = explore::parse_sweep(cmd.sweep, schema);
    if (cmd.jobs) spec.jobs = *cmd.jobs;
    const int jobs = resolve_threads(spec.jobs);
    const explore::Plan plan = explore::plan_sweep(spec, schema);
    const std::string out_dir = cmd.output.empty() ? default_output(cmd.sweep) : cmd.output;
    const std::string cache = cmd.cache.empty() ? (std::filesystem::path(out_dir) / "cache").string() : cmd.cache;
    if (verbosity >= 1)
        fmt::print("explore {}: {} points, mode {}, {} jobs, cache {}\n", cmd.sweep, plan.points.size(),
                   explore::to_string(spec.mode), jobs, cache);

    if (cmd.dry_run) return dry_run(plan, cache);

    explore::RunOptions run;
    run.executable = self_executable();
    run.cache_dir = cache;
    run.jobs = jobs;
    if (verbosity >= 1) run.progress = [](const std::string& line) { fmt::print("{}\n", line), std::fflush(stdout); };
    const explore::RunSummary s = explore::run_sweep(plan, run);
    if (s.interrupted) {
        fmt::print(stderr, "neuroemu: explore interrupted: {} of {} distinct points are in the cache {}; run the same "
                           "command again to resume\n",
                   s.cached + s.computed, s.distinct, cache);
        return 130;
    }

    const explore::OutputFiles files = explore::write_outputs(plan, s, out_dir);
    const std::vector<size_t> front = explore::sweep_front(plan, s);
    if (verbosity >= 1) {
        fmt::print("Pareto front ({} points):\n", front.size());
        for (size_t row : front)
            fmt::print("  point {} ({}):{}\n", plan.points[row].point.index,
                       fmt::join(plan.points[row].point.overrides(), ", "), result_text(s.results[row]));
    }
    fmt::print("explore: {} points: {} ok, {} do not fit, {} failed; {} computed, {} cached; Pareto front {} points; "
               "{:.1f} s; results in {}\n",
               s.points, s.ok, s.does_not_fit, s.failed, s.computed, s.cached, front.size(), s.seconds, out_dir);

    if (!cmd.json_file.empty()) {
        nlohmann::json doc = {
            {"command", "explore"},
            {"sweep", cmd.sweep},
            {"mode", explore::to_string(spec.mode)},
            {"jobs", jobs},
            {"summary",
             {{"points", s.points},
              {"distinct", s.distinct},
              {"computed", s.computed},
              {"cached", s.cached},
              {"conversions", s.conversions},
              {"ok", s.ok},
              {"does_not_fit", s.does_not_fit},
              {"failed", s.failed},
              {"pareto", front.size()}}},
            {"seconds", s.seconds},
            {"output", out_dir},
            {"cache", cache},
            {"files",
             {{"points_csv", files.points_csv},
              {"points_json", files.points_json},
              {"pareto_csv", files.pareto_csv},
              {"pareto_json", files.pareto_json},
              {"pareto_svg", files.pareto_svg},
              {"html", files.html}}}};
        write_json_file(cmd.json_file, doc);
    }
    return 0;
}

}  // namespace neuroemu
