// The `synthetic` reader: seeded random smooth images in the model's input shape, for zoo topologies that have no
// dataset (torchvision ResNet-18/34/50 at 224 x 224). Each channel of an image is a sum of a few low-frequency
// plane waves with random frequency, phase and amplitude, plus a shared component so that channels correlate as
// in photographs; values are clamped to [0, 1] and stored as 8-bit pixels. Image i of a split depends only on
// (seed, split, i), so any slice and any thread count give the same pixels. The labels are all 0 and mean
// nothing: accuracy on synthetic input is reported as not meaningful.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "common/error.h"
#include "common/parallel.h"
#include "common/random.h"
#include "data/reader/reader.h"

namespace neuroemu {
namespace {

constexpr int kWaves = 6;  // plane waves per channel, plus as many shared by all channels

class SyntheticSource final : public ImageSource {
public:
    SyntheticSource(std::vector<int64_t> shape, int64_t count, uint64_t seed)
        : shape_(std::move(shape)), count_(count), seed_(seed) {}
    int64_t count() const override { return count_; }
    int64_t channels() const override { return shape_[0]; }
    int64_t height() const override { return shape_[1]; }
    int64_t width() const override { return shape_[2]; }
    bool labelled() const override { return false; }

    ImageSet read(int64_t first, int64_t n) const override {
        if (first < 0 || n < 0 || first + n > count_)
            throw InternalError(fmt::format("synthetic images [{}, {}) of {}", first, first + n, count_));
        ImageSet set;
        set.count = n;
        set.first = first;
        set.channels = channels(), set.height = height(), set.width = width();
        set.labelled = false;
        set.labels.assign(static_cast<size_t>(n), 0);
        set.pixels.resize(static_cast<size_t>(n * set.image_size()));
        parallel_for(n, resolve_threads(0), [&](int64_t i, int) {
            draw(first + i, set.pixels.data() + i * set.image_size());
        });
        return set;
    }

private:
    struct Wave {
        double fy, fx, phase, amplitude;
    };
    static Wave wave(uint64_t& rng) {
        // Up to 3 cycles across the image in each direction; amplitudes fall with frequency (smooth images).
        const double fy = 3.0 * unit_uniform(rng), fx = 3.0 * unit_uniform(rng);
        const double phase = 2.0 * M_PI * unit_uniform(rng);
        const double amplitude = 0.25 * unit_uniform(rng) / (1.0 + 0.5 * std::hypot(fy, fx));
        return {fy, fx, phase, amplitude};
    }

    void draw(int64_t index, uint8_t* out) const {
        uint64_t rng = splitmix64_mix(seed_ ^ splitmix64_mix(static_cast<uint64_t>(index) + 1));
        const int64_t c_n = channels(), h = height(), w = width();
        std::vector<Wave> shared(kWaves);
        for (Wave& s : shared) s = wave(rng);
        for (int64_t c = 0; c < c_n; ++c) {
            std::vector<Wave> own(kWaves);
            for (Wave& s : own) s = wave(rng);
            const double base = 0.3 + 0.4 * unit_uniform(rng);
            for (int64_t y = 0; y < h; ++y)
                for (int64_t x = 0; x < w; ++x) {
                    const double u = static_cast<double>(y) / static_cast<double>(h);
                    const double v = static_cast<double>(x) / static_cast<double>(w);
                    double value = base;
                    for (const auto* waves : {&shared, &own})
                        for (const Wave& s : *waves)
                            value += s.amplitude * std::cos(2.0 * M_PI * (s.fy * u + s.fx * v) + s.phase);
                    out[(c * h + y) * w + x] = static_cast<uint8_t>(std::lround(255.0 * std::clamp(value, 0.0, 1.0)));
                }
        }
    }

    std::vector<int64_t> shape_;
    int64_t count_;
    uint64_t seed_;
};

class SyntheticReader final : public DatasetReader {
public:
    SyntheticReader(int64_t count, uint64_t seed) : count_(count), seed_(seed) {}
    std::unique_ptr<ImageSource> open(const DatasetRequest& request) const override {
        // A NIR network's input may be [N] (N x 1 x 1 "images") or [C, L] (C x 1 x L), as the engine lays them out.
        std::vector<int64_t> shape = request.model_input;
        if (shape.size() == 1) shape = {shape[0], 1, 1};
        if (shape.size() == 2) shape = {shape[0], 1, shape[1]};
        if (shape.size() != 3)
            throw ConfigError(fmt::format("dataset.format: synthetic: the model's input has {} dimensions; expected "
                                          "[C, H, W], [C, L] or [N]",
                                          shape.size()));
        // Train and test draw from disjoint streams of the same seed.
        const uint64_t split_seed = splitmix64_mix(seed_ ^ (request.split == Split::Train ? 0x7261696eull : 0x74657374ull));
        return std::make_unique<SyntheticSource>(shape, count_, split_seed);
    }

private:
    int64_t count_;
    uint64_t seed_;
};

}  // namespace

void register_synthetic(Family<DatasetReader>& family) {
    family.add({"synthetic",
                "seeded random smooth images in the model's input shape (sums of low-frequency plane waves; "
                "labels mean nothing, so accuracy is not meaningful). Seeded by `seed`; dataset.path is not read.",
                {ParamSpec("dataset.synthetic_images", ParamKind::Int, "1000", "images",
                           "Images in each split of the synthetic dataset (dataset.format: synthetic).")
                     .range(1, 1e9)}},
               [](const Settings& s) {
                   return std::make_unique<SyntheticReader>(s.get_int("dataset.synthetic_images"),
                                                            static_cast<uint64_t>(s.get_int("seed")));
               });
}

}  // namespace neuroemu
