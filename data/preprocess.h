// torchvision's standard evaluation preprocessing, Compose([Resize(R), CenterCrop(C)]) on a PIL image, to the
// same uint8 values:
// - Resize(R): the shorter side becomes R, the longer int(R * long / short) (torchvision's arithmetic), with
//   PIL's Image.resize(BILINEAR): a separable triangle filter whose support grows with the downscale factor
//   (antialiasing), coefficients normalised per output pixel then rounded to 22-bit fixed point, a horizontal
//   pass (rounded and clamped to 8 bits) over the rows the vertical pass needs, then the vertical pass. This is
//   the algorithm of Pillow's ImagingResample for 8-bit images, reimplemented; an axis whose size does not
//   change is not resampled.
// - CenterCrop(C): top = int(round((h - C) / 2.0)) (Python's round: half to even), likewise left.
// The keys (dataset.resize, dataset.crop, dataset.image_channels) are declared by the readers of image files
// (data/reader/image_files.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/image_decode.h"

namespace neuroemu {

struct Preprocess {
    int64_t resize = 256;  // shorter side after resizing; 0: no resize
    int64_t crop = 224;    // centre crop, square
    int channels = 3;      // 3: RGB; 1: PIL's "L"
};

// torchvision's Resize(int) output size for an image: {width, height}.
std::vector<int64_t> resized_size(int64_t width, int64_t height, int64_t shorter);

// PIL's Image.resize((width, height), BILINEAR) of an 8-bit interleaved image.
DecodedImage resize_bilinear(const DecodedImage& in, int64_t width, int64_t height);

// Resize, centre crop, and write channels x crop x crop (planar) to `out`. Throws DataError naming `name` when
// the image is smaller than the crop.
void preprocess(const DecodedImage& image, const Preprocess& options, const std::string& name, uint8_t* out);

}  // namespace neuroemu
