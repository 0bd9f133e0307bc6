#include "data/dataset_spec.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

#include "common/error.h"

namespace neuroemu {

std::vector<ParamSpec> dataset_params() {
    const double inf = std::numeric_limits<double>::infinity();
    std::vector<ParamSpec> params = {
        ParamSpec("dataset.name", ParamKind::String, "fashion-mnist", "",
                  "The dataset's name, as reports and JSON show it (dataset.format says how it is read)."),
        dataset_readers().selector(kDefaultDatasetReader),
        ParamSpec("dataset.path", ParamKind::Path, "/usr/share/datasets/fashion-mnist", "",
                  "Folder holding the dataset, laid out as dataset.format says (idx: "
                  "{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz, as Debian's dataset-fashion-mnist installs)."),
        ParamSpec("dataset.images", ParamKind::Int, "10000", "images",
                  "Test images to evaluate (the first N of the test set); --images overrides.")
            .range(1, inf),
        ParamSpec("dataset.mean", ParamKind::RealList, "", "",
                  "Per-channel mean subtracted after scaling pixels to [0, 1] (one value, or one per channel).")
            .items(1, 4096),
        ParamSpec("dataset.std", ParamKind::RealList, "", "",
                  "Per-channel standard deviation dividing after the mean (one value, or one per channel).")
            .items(1, 4096)
            .range(1e-12, inf),
    };
    const auto own = dataset_readers().params();
    params.insert(params.end(), own.begin(), own.end());
    return params;
}

std::unique_ptr<ImageSource> open_dataset(const Settings& settings, Split split,
                                          const std::vector<int64_t>& model_input, int64_t max_images) {
    DatasetRequest request;
    request.dir = settings.get_path("dataset.path");
    request.split = split;
    request.model_input = model_input;
    request.max_images = max_images;
    return dataset_readers().make(settings.get_string("dataset.format"), settings)->open(request);
}

ImageSet load_dataset(const Settings& settings, Split split, int64_t max_images,
                      const std::vector<int64_t>& model_input) {
    const auto source = open_dataset(settings, split, model_input, max_images);
    const int64_t n = max_images > 0 ? std::min(max_images, source->count()) : source->count();
    ImageSet set = source->read(0, n);
    set.labelled = source->labelled();
    return set;
}

InputNormalisation input_normalisation(const Settings& settings, int64_t channels) {
    InputNormalisation n;
    for (const char* key : {"dataset.mean", "dataset.std"}) {
        if (!settings.has(key)) continue;
        const auto& v = settings.get_reals(key);
        if (v.size() != 1 && static_cast<int64_t>(v.size()) != channels)
            throw ConfigError(fmt::format("{}: {}: {} values given, the images have {} channel(s); give 1 or {}",
                                          settings.where(key), key, v.size(), channels, channels));
        (std::string(key) == "dataset.mean" ? n.mean : n.std) = v;
    }
    return n;
}

}  // namespace neuroemu
