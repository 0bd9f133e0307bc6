#include "experiment/model_run.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/progress.h"
#include "data/dataset_spec.h"
#include "data/image_stream.h"
#include "sim/batch_statistics.h"
#include "sim/sim_spec.h"

namespace neuroemu::experiment {

SnnModel snn_for_run(const Settings& settings, const Network& net, const std::string& snn_file, Network& folded,
                     ConversionReport& report, int verbosity) {
    if (!snn_file.empty()) {
        folded = fold_batchnorm(net);
        return load_snn(snn_file);
    }
    SnnModel model = convert_from_settings(settings, net, folded, report, verbosity);
    if (verbosity > 0) print_compensation(report);
    return model;
}

void print_compensation(const ConversionReport& report) {
    if (!report.compensated) return;
    if (report.fit.ok)
        fmt::print("propagation error fit Ē = p·q^l over {} layers: p = {:.6f}, q = {:.4f}, adjusted R² = {:.4f}\n",
                   report.fit.depth.size(), report.fit.p, report.fit.q, report.fit.adj_r2);
    else
        fmt::print("propagation error fit: fewer than three layers with positive error; searching around q = 1\n");
    std::string tried;
    bool errors = false;
    for (const auto& trial : report.search.trials) {
        tried += fmt::format(" {:.3f}:{:.2f}%", trial.zeta, 100.0 * trial.accuracy);
        if (trial.error >= 0) tried += fmt::format(":{:.5f}", trial.error), errors = true;
    }
    fmt::print("ζ trials (ζ:accuracy{}):{}\nchosen ζ = {:.4f} (τ_max = {:.3f})\n", errors ? "[:propagation error]" : "",
               tried, report.search.best, report.search.tau_max);
}

InputSummary for_each_test_chunk(const Settings& settings, const std::vector<int64_t>& model_input, int64_t count,
                                 const std::function<void(const ImageSet&)>& consume, int64_t chunk_bytes) {
    const auto source = open_dataset(settings, Split::Test, model_input, count);
    InputSummary input;
    input.images = std::min(count, source->count());
    input.channels = source->channels();
    input.labelled = source->labelled();
    const int64_t image_bytes = std::max<int64_t>(1, source->channels() * source->height() * source->width());
    double pixel_sum = 0;
    ImageStream stream(*source, 0, input.images, std::max<int64_t>(1, chunk_bytes / image_bytes));
    for (ImageSet chunk; stream.next(chunk);) {
        chunk.labelled = input.labelled;
        for (uint8_t p : chunk.pixels) pixel_sum += p / 255.0;
        consume(chunk);
    }
    input.mean_pixel = input.images ? pixel_sum / static_cast<double>(input.images * image_bytes) : 0.0;
    return input;
}

FunctionalRun run_functional(const Settings& settings, const std::string& snn_file, int verbosity) {
    FunctionalRun run;
    run.net = load_network(settings);
    run.model = snn_for_run(settings, run.net, snn_file, run.folded, run.conversion, verbosity);
    run.options = snn_options(settings);
    const SnnEngine engine(run.model);
    const int64_t images = settings.get_int("dataset.images");
    Progress progress("snn", images, verbosity > 0 && Progress::stderr_is_terminal());
    const Network* ann = settings.get_bool("simulation.compare_ann") ? &run.folded : nullptr;
    run.input = for_each_test_chunk(settings, run.model.populations.at(0).shape, images, [&](const ImageSet& chunk) {
        accumulate(run.result, engine.evaluate(chunk, input_normalisation(settings, chunk.channels), run.options,
                                               &progress, ann));
    });
    return run;
}

AnnRun run_ann(const Settings& settings, int verbosity) {
    AnnRun run;
    run.net = load_network(settings);
    run.options = ann_options(settings);
    const AnnEngine engine(run.net);
    const int64_t images = settings.get_int("dataset.images");
    Progress progress("ann", images, verbosity > 0 && Progress::stderr_is_terminal());
    run.input = for_each_test_chunk(settings, run.net.input_shape(), images, [&](const ImageSet& chunk) {
        const AnnResult part = engine.evaluate(chunk, input_normalisation(settings, chunk.channels), run.options, &progress);
        run.result.images += part.images;
        run.result.correct += part.correct;
        run.result.seconds += part.seconds;
        run.result.labelled = part.labelled;
        run.result.logits.insert(run.result.logits.end(), part.logits.begin(), part.logits.end());
    });
    return run;
}

}  // namespace neuroemu::experiment
