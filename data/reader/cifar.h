// The CIFAR binary formats, shared by cifar10.cpp and cifar100.cpp: each record is one label byte (CIFAR-10)
// or two (CIFAR-100: coarse, fine), then 3072 pixel bytes (the R, G and B planes of a 32x32 image, rows top to
// bottom): already channels x height x width. A split is small (50,000 images: 150 MB), so it is read whole when
// opened.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/idx_dataset.h"

namespace neuroemu {

struct CifarFormat {
    std::vector<int32_t> classes;  // per label byte: its values are 0 .. classes - 1 (CIFAR-100: coarse, fine)
    int label_byte;                // which label byte is the class
    std::string subfolder;  // what the tarball unpacks to: used when dataset.path holds it
};

// `dir`, or dir/<subfolder> when that exists.
std::string cifar_folder(const std::string& dir, const CifarFormat& format);

// The records of `files` (in `folder`), in order. DataError naming the file for a size that is not a positive
// multiple of the record size, and naming file and record for a label out of range.
ImageSet read_cifar(const std::string& folder, const std::vector<std::string>& files, const CifarFormat& format);

}  // namespace neuroemu
