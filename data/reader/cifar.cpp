#include "data/reader/cifar.h"

#include <fmt/format.h>

#include <cstring>
#include <filesystem>

#include "common/error.h"
#include "common/file_io.h"

namespace neuroemu {

std::string cifar_folder(const std::string& dir, const CifarFormat& format) {
    const std::string inner = dir + "/" + format.subfolder;
    return std::filesystem::is_directory(inner) ? inner : dir;
}

ImageSet read_cifar(const std::string& folder, const std::vector<std::string>& files, const CifarFormat& format) {
    constexpr int64_t kPixels = 3 * 32 * 32;
    const auto label_bytes = static_cast<int64_t>(format.classes.size());
    const int64_t record = label_bytes + kPixels;
    ImageSet set;
    set.channels = 3;
    set.height = set.width = 32;
    for (const auto& name : files) {
        const std::string path = folder + "/" + name;
        const std::vector<uint8_t> bytes = read_file_bytes(path);
        const auto size = static_cast<int64_t>(bytes.size());
        if (size == 0 || size % record != 0)
            throw DataError(fmt::format("{}: {} bytes, not a positive multiple of the {}-byte record ({} label "
                                        "byte(s) + 3072 pixels)", path, size, record, label_bytes));
        const int64_t n = size / record;
        set.pixels.resize(static_cast<size_t>((set.count + n) * kPixels));
        for (int64_t r = 0; r < n; ++r) {
            const uint8_t* rec = bytes.data() + r * record;
            for (int64_t b = 0; b < label_bytes; ++b)
                if (rec[b] >= format.classes[b])
                    throw DataError(fmt::format("{}: record {}: {}label {} out of range (0..{})", path, r,
                                                label_bytes == 1 ? "" : b == 0 ? "coarse " : "fine ", rec[b],
                                                format.classes[b] - 1));
            set.labels.push_back(rec[format.label_byte]);
            std::memcpy(set.pixels.data() + (set.count + r) * kPixels, rec + label_bytes, kPixels);
        }
        set.count += n;
    }
    return set;
}

}  // namespace neuroemu
