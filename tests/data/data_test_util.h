// Helpers shared by the data tests: temporary folders, settings for the dataset section, DataError messages.
#pragma once

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "common/error.h"
#include "data/dataset_spec.h"

namespace neuroemu::test {

inline const std::string kFixtures = std::string(NEUROEMU_SOURCE_DIR) + "/tests/data/fixtures";

// A fresh, empty folder under the temporary directory.
inline std::string fresh_dir(const std::string& name) {
    const auto dir = std::filesystem::temp_directory_path() / ("neuroemu_data_" + name);
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    return dir.string();
}

inline void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes) {
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()),
                                                static_cast<std::streamsize>(bytes.size()));
}

inline std::vector<uint8_t> read_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The dataset section's settings with `overrides` ("dataset.format=cifar10", ...).
inline Settings dataset_settings(const std::vector<std::string>& overrides) {
    return Schema({{"dataset", ""}}, dataset_params()).parse("", "", "", overrides);
}

// The message of the DataError `fn` throws ("no DataError" when none).
inline std::string data_error(const std::function<void()>& fn) {
    try {
        fn();
    } catch (const DataError& e) {
        return e.what();
    }
    return "no DataError";
}

}  // namespace neuroemu::test
