#include "data/idx_dataset.h"

#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>
#include <limits>
#include <memory>

#include "common/error.h"

namespace neuroemu {
namespace {

constexpr uint32_t kImagesMagic = 0x00000803;  // unsigned bytes, 3 dimensions
constexpr uint32_t kLabelsMagic = 0x00000801;  // unsigned bytes, 1 dimension
constexpr int64_t kMaxSide = 65536;

struct GzCloser {
    void operator()(gzFile f) const { gzclose(f); }
};
using GzFile = std::unique_ptr<std::remove_pointer_t<gzFile>, GzCloser>;

class IdxReader {
public:
    explicit IdxReader(std::string path) : path_(std::move(path)), file_(gzopen(path_.c_str(), "rb")) {
        if (!file_)
            throw DataError(fmt::format("{}: cannot open (for Fashion-MNIST: apt-get install dataset-fashion-mnist)",
                                        path_));
    }

    uint32_t be32(const char* what) {
        unsigned char b[4];
        if (read(b, 4) != 4) throw DataError(fmt::format("{}: truncated header (reading {})", path_, what));
        return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | uint32_t{b[3]};
    }

    void magic(uint32_t expected, const char* kind) {
        const uint32_t m = be32("magic number");
        if (m != expected)
            throw DataError(fmt::format("{}: not an IDX {} file (magic 0x{:08x}, expected 0x{:08x})", path_, kind, m,
                                        expected));
    }

    // Reads `count` records of `record_bytes`, growing the buffer as data arrives so a lying header cannot
    // make us allocate more than the file holds.
    std::vector<uint8_t> records(int64_t count, int64_t record_bytes, const char* what) {
        std::vector<uint8_t> out;
        // Up to 2^32 records of up to kMaxSide^2 bytes: the product can pass int64 (found by fuzz/idx_fuzz.cpp).
        if (record_bytes > 0 && count > std::numeric_limits<int64_t>::max() / record_bytes)
            throw DataError(fmt::format("{}: header declares {} {} of {} bytes each: more than any file holds", path_,
                                        count, what, record_bytes));
        const int64_t total = count * record_bytes;
        constexpr int64_t kChunk = 1 << 20;
        while (static_cast<int64_t>(out.size()) < total) {
            const size_t old = out.size();
            const auto want = static_cast<size_t>(std::min<int64_t>(kChunk, total - static_cast<int64_t>(old)));
            out.resize(old + want);
            const int got = read(out.data() + old, want);
            if (got < static_cast<int>(want))
                throw DataError(fmt::format("{}: truncated: header declares {} {}, file holds {}", path_, count, what,
                                            static_cast<int64_t>(old + static_cast<size_t>(std::max(got, 0))) /
                                                record_bytes));
        }
        return out;
    }

    const std::string& path() const { return path_; }

private:
    int read(void* dst, size_t n) {
        const int got = gzread(file_.get(), dst, static_cast<unsigned>(n));
        if (got < 0) {
            int err = 0;
            throw DataError(fmt::format("{}: read error: {}", path_, gzerror(file_.get(), &err)));
        }
        return got;
    }

    std::string path_;
    GzFile file_;
};

int64_t take(int64_t declared, int64_t max_images) {
    return max_images > 0 ? std::min(declared, max_images) : declared;
}

}  // namespace

ImageSet load_idx(const std::string& images_path, const std::string& labels_path, int64_t max_images) {
    ImageSet set;
    IdxReader images(images_path);
    images.magic(kImagesMagic, "image");
    const int64_t declared = images.be32("image count");
    set.height = images.be32("rows");
    set.width = images.be32("columns");
    if (set.height < 1 || set.width < 1 || set.height > kMaxSide || set.width > kMaxSide)
        throw DataError(fmt::format("{}: image size {}x{} is outside 1..{}", images_path, set.height, set.width,
                                    kMaxSide));
    set.count = take(declared, max_images);
    set.pixels = images.records(set.count, set.image_size(), "images");

    IdxReader labels(labels_path);
    labels.magic(kLabelsMagic, "label");
    const int64_t declared_labels = labels.be32("label count");
    if (declared_labels != declared)
        throw DataError(fmt::format("{}: {} labels, but {} holds {} images", labels_path, declared_labels,
                                    images_path, declared));
    const std::vector<uint8_t> raw = labels.records(set.count, 1, "labels");
    set.labels.assign(raw.begin(), raw.end());
    return set;
}

void image_to_input(const ImageSet& set, int64_t index, const InputNormalisation& norm, float* out) {
    const int64_t plane = set.height * set.width;
    const uint8_t* px = set.pixels.data() + index * set.image_size();
    for (int64_t c = 0; c < set.channels; ++c) {
        const auto pick = [&](const std::vector<double>& v, double fallback) {
            return v.empty() ? fallback : v[v.size() == 1 ? 0 : static_cast<size_t>(c)];
        };
        const double mean = pick(norm.mean, 0.0), inv_std = 1.0 / pick(norm.std, 1.0);
        for (int64_t i = 0; i < plane; ++i)
            out[c * plane + i] = static_cast<float>((px[c * plane + i] / 255.0 - mean) * inv_std);
    }
}

ImageSet ImageSet::slice(int64_t first, int64_t n) const {
    if (first < 0 || n < 0 || first + n > count)
        throw InternalError(fmt::format("slice [{}, {}) of {} images", first, first + n, count));
    ImageSet images;
    images.count = n;
    images.channels = channels, images.height = height, images.width = width;
    images.pixels.assign(pixels.begin() + first * image_size(), pixels.begin() + (first + n) * image_size());
    images.labels.assign(labels.begin() + first, labels.begin() + first + n);
    images.labelled = labelled;
    images.first = this->first + first;
    return images;
}

}  // namespace neuroemu
