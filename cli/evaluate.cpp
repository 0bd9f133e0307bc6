// `neuroemu evaluate`: accuracy of the model on the test set.
#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/output.h"
#include "common/error.h"
#include "common/parallel.h"
#include "common/progress.h"
#include "data/dataset_spec.h"
#include "model/model_spec.h"
#include "sim/sim_spec.h"

namespace neuroemu {

int run_evaluate(const CommonOptions& opts, const EvaluateOptions& eval) {
    if (!eval.ann)
        throw ConfigError("evaluate: only the reference ANN can be evaluated in this version; pass --ann "
                          "(the spiking engine arrives with `neuroemu convert`)");
    std::vector<std::string> extra;
    if (eval.images) extra.push_back(fmt::format("dataset.images={}", *eval.images));
    const Settings settings = load_experiment(opts, extra);
    const Network net = load_model(settings);
    const ImageSet test = load_dataset(settings, Split::Test, settings.get_int("dataset.images"));
    const AnnOptions options = ann_options(settings);
    const AnnEngine engine(net);
    AnnResult r;
    {
        Progress progress("ann", test.count, opts.verbosity > 0 && Progress::stderr_is_terminal());
        r = engine.evaluate(test, input_normalisation(settings, test.channels), options, &progress);
    }
    const double images_per_s = r.seconds > 0 ? static_cast<double>(r.images) / r.seconds : 0.0;
    if (opts.verbosity > 0)
        fmt::print("model {} on {} test images of {}: ", net.name(), thousands(r.images),
                   settings.get_string("dataset.name"));
    fmt::print("ANN top-1 accuracy {:.2f}% ({}/{})\n", 100.0 * r.top1(), r.correct, r.images);
    if (opts.verbosity > 1)
        fmt::print("inference {:.3f} s, {:.0f} images/s on {} threads\n", r.seconds, images_per_s,
                   resolve_threads(options.threads));
    if (!opts.json_file.empty()) {
        nlohmann::json doc = {{"command", "evaluate"},
                              {"model", model_summary_json(net)},
                              {"dataset", {{"name", settings.get_string("dataset.name")},
                                           {"split", "test"},
                                           {"images", r.images}}},
                              {"ann", {{"top1", r.top1()},
                                       {"correct", r.correct},
                                       {"images", r.images},
                                       {"seconds", r.seconds},
                                       {"images_per_s", images_per_s},
                                       {"threads", resolve_threads(options.threads)}}},
                              {"settings", settings_json(settings)}};
        write_json_file(opts.json_file, doc);
    }
    return 0;
}

}  // namespace neuroemu
