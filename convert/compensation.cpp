#include "convert/compensation.h"

#include <cmath>
#include <limits>

#include "common/error.h"
#include "convert/convert.h"

namespace neuroemu {

ErrorFit fit_exponential(const std::vector<double>& depth, const std::vector<double>& error) {
    ErrorFit f;
    for (size_t i = 0; i < depth.size() && i < error.size(); ++i)
        if (error[i] > 0 && std::isfinite(error[i])) f.depth.push_back(depth[i]), f.error.push_back(error[i]);
    const double n = static_cast<double>(f.depth.size());
    if (f.depth.size() < 3) return f;
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (size_t i = 0; i < f.depth.size(); ++i) {
        const double x = f.depth[i], y = std::log(f.error[i]);
        sx += x, sy += y, sxx += x * x, sxy += x * y;
    }
    const double denom = n * sxx - sx * sx;
    if (denom == 0) return f;
    const double slope = (n * sxy - sx * sy) / denom, intercept = (sy - slope * sx) / n;
    f.p = std::exp(intercept);
    f.q = std::exp(slope);
    double mean = 0, ss_res = 0, ss_tot = 0;
    for (double e : f.error) mean += e / n;
    for (size_t i = 0; i < f.depth.size(); ++i) {
        const double fitted = f.p * std::pow(f.q, f.depth[i]);
        ss_res += (f.error[i] - fitted) * (f.error[i] - fitted);
        ss_tot += (f.error[i] - mean) * (f.error[i] - mean);
    }
    // Errors that do not vary (q = 1) leave only rounding in ss_tot: compare against the data's own scale.
    const double negligible = 1e-20 * n * mean * mean;
    f.r2 = ss_tot > negligible ? 1.0 - ss_res / ss_tot : (ss_res <= negligible ? 1.0 : 0.0);
    f.adj_r2 = 1.0 - (1.0 - f.r2) * (n - 1.0) / (n - 2.0);
    f.ok = true;
    return f;
}

ErrorFit fit_error_growth(const SnnModel& model, const SnnResult& run) {
    std::vector<double> depth, error;
    int layer = 0;
    for (size_t i = 1; i < model.populations.size(); ++i) {
        const Population& p = model.populations[i];
        if (p.kind != PopulationKind::IF || !p.spiking) continue;
        ++layer;
        if (!run.populations[i].has_error) continue;
        depth.push_back(layer);
        error.push_back(run.populations[i].accumulated_error_max_neuron);
    }
    return fit_exponential(depth, error);
}

double network_rate_error(const SnnModel& model, const SnnResult& run) {
    double total = 0, neurons = 0;
    for (size_t i = 1; i < model.populations.size() && i < run.populations.size(); ++i) {
        const Population& p = model.populations[i];
        if (p.kind != PopulationKind::IF || !p.spiking || !run.populations[i].has_error) continue;
        total += run.populations[i].rate_error_abs * static_cast<double>(p.size());
        neurons += static_cast<double>(p.size());
    }
    return neurons > 0 ? total / neurons : -1.0;
}

ZetaSearch search_zeta(const SnnModel& model, const ImageSet& train,
                       const InputNormalisation& norm, const SnnOptions& sim, const CompensationOptions& options,
                       const ErrorFit& fit, const SnnResult& baseline, const Network* ann) {
    const bool by_error = options.objective == ZetaObjective::Error;
    if (by_error && (!ann || network_rate_error(model, baseline) < 0))
        throw ConfigError("conversion.compensation.objective=error needs the ANN's activations (baseline run and "
                          "trials with the ANN given)");
    ZetaSearch s;
    double last_max_rate = 0;
    for (size_t i = 1; i < model.populations.size(); ++i)
        if (model.populations[i].kind == PopulationKind::IF && model.populations[i].spiking &&
            static_cast<int>(i) != model.output)
            last_max_rate = baseline.populations[i].max_rate;
    s.tau_max = last_max_rate > 0 ? 1.0 / last_max_rate : std::numeric_limits<double>::infinity();
    s.trials.push_back({1.0, baseline.accuracy(baseline.steps), network_rate_error(model, baseline)});
    std::vector<double> grid;
    if (options.zeta > 0) {
        grid.push_back(options.zeta);
    } else {
        const double centre = fit.ok ? fit.q : 1.0;
        for (int k = -options.candidates; k <= options.candidates; ++k) {
            const double z = centre + k * options.step;
            if (z > 1.0 && z < s.tau_max) grid.push_back(z);
        }
        if (grid.empty() && 1.0 + options.step < s.tau_max) grid.push_back(1.0 + options.step);  // q far below 1
    }
    auto trial = [&](double z) {
        SnnModel scaled = model;
        scale_weights(scaled, z);
        const SnnResult result = SnnEngine(scaled).evaluate(train, norm, sim, nullptr, by_error ? ann : nullptr);
        s.trials.push_back({z, result.accuracy(result.steps), network_rate_error(scaled, result)});
    };
    auto better = [&](const ZetaTrial& a, const ZetaTrial& b) {  // a strictly better than b
        if (by_error) return a.error < b.error || (a.error == b.error && a.accuracy > b.accuracy);
        return a.accuracy > b.accuracy;
    };
    for (double z : grid) trial(z);
    auto pick = [&] {
        const ZetaTrial* best = &s.trials[0];
        for (const auto& t : s.trials)
            if (better(t, *best) || (options.zeta > 0 && t.zeta == options.zeta)) best = &t;
        s.best = best->zeta;
    };
    pick();
    // Step on past the grid's upper end while the objective still improves there (and ζ stays below τ_max).
    if (options.zeta <= 0 && !grid.empty())
        for (int extra = 0; extra < options.max_extra_steps && s.best == s.trials.back().zeta; ++extra) {
            const double z = s.best + options.step;
            if (z >= s.tau_max) break;
            trial(z);
            pick();
        }
    return s;
}

}  // namespace neuroemu
