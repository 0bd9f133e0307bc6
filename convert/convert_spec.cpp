#include "convert/convert_spec.h"

#include <fmt/format.h>

#include "common/error.h"
#include "data/dataset_spec.h"
#include "sim/sim_spec.h"

namespace neuroemu {

std::vector<ParamSpec> conversion_params() {
    const ConversionOptions c;
    const CompensationOptions k;
    auto flag = [](bool b) { return std::string(b ? "true" : "false"); };
    return {
        ParamSpec("conversion.normalise", ParamKind::Bool, flag(c.normalise), "",
                  "Data-based normalisation (Eq. 2): scale weights by λ of the layers they join. Off: weights as trained."),
        ParamSpec("conversion.percentile", ParamKind::Real, "99.9", "%",
                  "λ of a layer = this percentile of its positive activations on the calibration images (100 = max).")
            .range(0, 100),
        ParamSpec("conversion.calibration_images", ParamKind::Int, "1000", "images",
                  "Training images whose activations give λ (the first N of the training split).")
            .range(1, 100000000),
        ParamSpec("conversion.channel_wise", ParamKind::Bool, flag(c.channel_wise), "",
                  "λ per channel instead of per layer (the readout stays per layer)."),
        ParamSpec("conversion.shortcut_normalisation", ParamKind::Bool, flag(c.shortcut_normalisation), "",
                  "Shortcut synapses carry λ_in/λ_out (Eq. 4-6). Off: identity shortcuts keep weight 1 (the paper's "
                  "'without shortcut model')."),
        ParamSpec("conversion.reset", ParamKind::Enum, "subtract", "",
                  "After a spike the membrane potential drops by the threshold (`subtract`, the paper's) or to `zero`.")
            .one_of({"subtract", "zero"}),
        ParamSpec("conversion.readout", ParamKind::Enum, "membrane", "",
                  "Output decoding: `membrane` = argmax of a non-spiking output layer's potential (resolves classes "
                  "from the first step); `spikes` = argmax of output spike counts (ties: higher potential).")
            .one_of({"membrane", "spikes"}),
        ParamSpec("conversion.v_init", ParamKind::Real, "0", "threshold",
                  "Beyond the paper: initial membrane potential as a fraction of the threshold (0.5 halves the "
                  "rounding error of early steps).")
            .range(0, 0.999),
        ParamSpec("conversion.channel_thresholds", ParamKind::Bool, flag(c.channel_thresholds), "",
                  "Beyond the paper, with channel_wise: keep layer-wise weights and give each channel the "
                  "threshold λ_c/λ_layer instead (same firing, weights stay on one scale per layer)."),
        ParamSpec("conversion.max_pool", ParamKind::Enum, "gate", "",
                  "Max pooling: `gate` passes only the spikes of each window's most active neuron so far (the "
                  "paper's); `current` (beyond the paper) pools the input currents before the neuron: the ReLU "
                  "before the pool only collects currents and each pooled neuron integrates the largest one.")
            .one_of({"gate", "current"}),
        ParamSpec("conversion.compensation.enabled", ParamKind::Bool, flag(k.enabled), "",
                  "Error compensation (§3.3): fit Ē = p·q^l and scale all weights by ζ (Eq. 14)."),
        ParamSpec("conversion.compensation.objective", ParamKind::Enum, "accuracy", "",
                  "What the ζ search optimises on the training subset: `accuracy` (top-1 at the trial's T) or "
                  "`error`, Eq. 13: the least propagation error, mean |a/λ − r| over all spiking neurons (a "
                  "continuous measure, far less noisy on a few hundred images; ties go to accuracy).")
            .one_of({"accuracy", "error"}),
        ParamSpec("conversion.compensation.zeta", ParamKind::Real, "0", "",
                  "Fixed ζ; 0 = search step-wise around q within (1, τ_max) on training images.")
            .range(0, 100),
        ParamSpec("conversion.compensation.images", ParamKind::Int, std::to_string(k.images), "images",
                  "Training images for the error fit and the ζ search (taken after the calibration images).")
            .range(1, 100000000),
        ParamSpec("conversion.compensation.steps", ParamKind::Int, "0", "steps",
                  "Time steps of each ζ trial; 0 = simulation.steps (ζ is best chosen at the T it will run at: "
                  "a ζ that helps early can over-fire later).")
            .range(0, 1000000),
        ParamSpec("conversion.compensation.step", ParamKind::Real, "0.01", "",
                  "Spacing of the ζ grid.")
            .range(1e-6, 10),
        ParamSpec("conversion.compensation.candidates", ParamKind::Int, std::to_string(k.candidates), "",
                  "ζ grid points on each side of q.")
            .range(0, 1000),
        ParamSpec("conversion.compensation.extra_steps", ParamKind::Int, std::to_string(k.max_extra_steps), "",
                  "Further steps past the grid's top while the top ζ keeps being the best (bounded by τ_max).")
            .range(0, 1000),
    };
}

ConversionOptions conversion_options(const Settings& settings) {
    ConversionOptions o;
    o.normalise = settings.get_bool("conversion.normalise");
    o.channel_wise = settings.get_bool("conversion.channel_wise");
    o.shortcut_normalisation = settings.get_bool("conversion.shortcut_normalisation");
    o.reset = settings.get_string("conversion.reset") == "zero" ? ResetMode::Zero : ResetMode::Subtract;
    o.max_pool = settings.get_string("conversion.max_pool") == "current" ? MaxPoolMode::Current : MaxPoolMode::Gate;
    o.spiking_readout = settings.get_string("conversion.readout") == "spikes";
    o.v_init = static_cast<float>(settings.get_real("conversion.v_init"));
    o.channel_thresholds = settings.get_bool("conversion.channel_thresholds");
    if (settings.get_real("conversion.percentile") <= 0)
        throw ConfigError(fmt::format("{}: conversion.percentile: {} is not in (0, 100]",
                                      settings.where("conversion.percentile"),
                                      settings.get_real("conversion.percentile")));
    if (o.channel_thresholds && !o.channel_wise)
        throw ConfigError(fmt::format("{}: conversion.channel_thresholds needs conversion.channel_wise: true",
                                      settings.where("conversion.channel_thresholds")));
    return o;
}

CompensationOptions compensation_options(const Settings& settings) {
    CompensationOptions o;
    o.enabled = settings.get_bool("conversion.compensation.enabled");
    o.zeta = settings.get_real("conversion.compensation.zeta");
    o.objective = settings.get_string("conversion.compensation.objective") == "error" ? ZetaObjective::Error
                                                                                      : ZetaObjective::Accuracy;
    o.images = settings.get_int("conversion.compensation.images");
    o.steps = settings.get_int("conversion.compensation.steps");
    if (o.steps == 0) o.steps = settings.get_int("simulation.steps");
    o.step = settings.get_real("conversion.compensation.step");
    o.candidates = static_cast<int>(settings.get_int("conversion.compensation.candidates"));
    o.max_extra_steps = static_cast<int>(settings.get_int("conversion.compensation.extra_steps"));
    return o;
}

SnnModel convert_from_settings(const Settings& settings, const Network& net, Network& folded, ConversionReport& report,
                               int verbosity) {
    const ConversionOptions opt = conversion_options(settings);
    const CompensationOptions comp = compensation_options(settings);
    folded = fold_batchnorm(net);
    const int64_t n_cal = opt.normalise ? settings.get_int("conversion.calibration_images") : 0;
    const int64_t n_comp = comp.enabled ? comp.images : 0;
    ImageSet train;
    if (n_cal + n_comp > 0) train = load_dataset(settings, Split::Train, n_cal + n_comp, net.input_shape());
    if (train.count < n_cal + n_comp)
        throw ConfigError(fmt::format("{}: the training split has {} images; calibration ({}) and compensation ({}) "
                                      "need {}",
                                      settings.where("conversion.calibration_images"), train.count, n_cal, n_comp,
                                      n_cal + n_comp));
    const InputNormalisation norm = input_normalisation(settings, train.count ? train.channels : 1);
    if (opt.normalise) {
        report.calibration = calibrate(folded, train.slice(0, n_cal), norm, settings.get_real("conversion.percentile"),
                                       opt.channel_wise, static_cast<int>(settings.get_int("simulation.threads")));
        if (verbosity > 1)
            fmt::print("calibrated λ on {} training images at the {} percentile\n", n_cal,
                       settings.get_real("conversion.percentile"));
    }
    SnnModel model = build_snn(folded, report.calibration, opt);
    if (comp.enabled) {
        const ImageSet subset = train.slice(n_cal, n_comp);
        SnnOptions sim = snn_options(settings);
        sim.steps = comp.steps;
        const SnnResult baseline = SnnEngine(model).evaluate(subset, norm, sim, nullptr, &folded);
        report.fit = fit_error_growth(model, baseline);
        report.search = search_zeta(model, subset, norm, sim, comp, report.fit, baseline, &folded);
        report.compensated = true;
        scale_weights(model, report.search.best);
        model.record.fit_p = report.fit.p;
        model.record.fit_q = report.fit.q;
        model.record.fit_adj_r2 = report.fit.adj_r2;
    }
    return model;
}

}  // namespace neuroemu
