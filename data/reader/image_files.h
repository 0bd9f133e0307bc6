// What the readers of image files (image_folder.cpp, ilsvrc_val.cpp) share: listing a folder, and an
// ImageSource over a list of labelled files that decodes (data/image_decode.h) and preprocesses
// (data/preprocess.h) on demand, in parallel over the images of one read().
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "data/preprocess.h"
#include "data/reader/reader.h"

namespace neuroemu {

struct ImageFiles {
    std::vector<std::string> paths;
    std::vector<int32_t> labels;
    std::vector<std::string> skipped;  // "PATH: why"
};

// .jpg, .jpeg, .png in any case.
bool has_image_extension(const std::string& name);

// The names of `dir`'s entries that are folders (`folders`) or regular files, in byte order. DataError naming
// the folder when it cannot be read.
std::vector<std::string> sorted_entries(const std::string& dir, bool folders);

// The image files of `dir`, sorted, each labelled `label`; other files are added to `files.skipped`.
void add_image_files(const std::string& dir, int32_t label, ImageFiles& files);

struct ImageFileOptions {
    Preprocess preprocess;
    int threads = 0;  // 0: hardware threads
};
// dataset.resize, dataset.crop, dataset.image_channels, dataset.threads: declared identically by every reader of
// image files (common/registry.h lists a shared key once).
std::vector<ParamSpec> image_file_params();
// Reads them; ConfigError for image_channels 2.
ImageFileOptions image_file_options(const Settings& settings);

// A source over `files`: channels x crop x crop images. DataError when dataset.crop exceeds dataset.resize.
std::unique_ptr<ImageSource> image_file_source(ImageFiles files, const ImageFileOptions& options);

}  // namespace neuroemu
