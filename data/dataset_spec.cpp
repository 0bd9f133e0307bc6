#include "data/dataset_spec.h"

#include <fmt/format.h>

#include <limits>

#include "common/error.h"

namespace neuroemu {

std::vector<ParamSpec> dataset_params() {
    const double inf = std::numeric_limits<double>::infinity();
    std::vector<ParamSpec> params = {
        ParamSpec("dataset.name", ParamKind::Enum, "fashion-mnist", "", "Dataset (IDX files, gzip or plain).")
            .one_of({"fashion-mnist", "mnist"}),
        ParamSpec("dataset.path", ParamKind::Path, "/usr/share/datasets/fashion-mnist", "",
                  "Folder holding {train,t10k}-{images-idx3,labels-idx1}-ubyte.gz (Debian's dataset-fashion-mnist)."),
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

ImageSet load_dataset(const Settings& settings, Split split, int64_t max_images) {
    return dataset_readers()
        .make(kDefaultDatasetReader, settings)
        ->read(settings.get_path("dataset.path"), split, max_images);
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
