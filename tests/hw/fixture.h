// Shared by the hardware-model tests: the shipped ResNet-8 and a chip run of it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <unistd.h>

#include "convert/convert.h"
#include "hw/chip_model.h"
#include "mapping/mapping.h"
#include "model/onnx_import.h"

namespace neuroemu::test {

inline const std::string kModels = std::string(NEUROEMU_SOURCE_DIR) + "/models/";
inline const std::string kData = "/usr/share/datasets/fashion-mnist/";

struct Fixture {
    SnnModel model;
    ImageSet test;
};

// The shipped ResNet-8, calibrated on 100 training images; the first `images` test images.
inline Fixture shipped_resnet8(int64_t images) {
    const Network ann = fold_batchnorm(import_onnx_file(kModels + "resnet8_fmnist.onnx"));
    const ImageSet train = load_idx(kData + "train-images-idx3-ubyte.gz", kData + "train-labels-idx1-ubyte.gz", 100);
    Fixture s;
    s.model = build_snn(ann, calibrate(ann, train, {}, 99.9, false, 2), ConversionOptions{});
    s.test = load_idx(kData + "t10k-images-idx3-ubyte.gz", kData + "t10k-labels-idx1-ubyte.gz", images);
    return s;
}

// Every test image of `s` on the engine, then on `chip` (constant-current input).
inline void run_images(const Fixture& s, ChipModel& chip, int64_t steps) {
    const SnnEngine engine(s.model);
    for (int64_t i = 0; i < s.test.count; ++i) {
        TraceRecorder rec(static_cast<int>(s.model.populations.size()), steps);
        SnnOptions so;
        so.steps = steps;
        so.observer = &rec;
        engine.evaluate(s.test.slice(i, 1), {}, so);
        SpikeTrace& trace = rec.traces().at(0);
        set_current_input(trace, s.test, i, {});
        chip.run(trace);
    }
}

// A path in the temporary folder, distinct per process.
inline std::string temp_path(const std::string& name) {
    return (std::filesystem::temp_directory_path() / ("neuroemu_" + std::to_string(getpid()) + "_" + name)).string();
}

inline std::string file_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

inline void write_bytes(const std::string& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace neuroemu::test
