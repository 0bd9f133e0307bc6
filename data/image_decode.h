// JPEG (libjpeg-turbo) and PNG (libpng) decoding to 8-bit RGB or grey, the way torchvision's default loader
// gets its pixels: PIL's Image.open(...).convert("RGB") (or convert("L") for one channel).
//
// The format is recognised by the file's signature, not its name. What is decoded, and how:
// - JPEG: libjpeg's defaults, as PIL decodes (JDCT_ISLOW, fancy upsampling); grey, YCbCr/RGB and CMYK/YCCK.
//   CMYK is converted as PIL does (Adobe polarity, then PIL's CMYK->RGB formula), so the 22 CMYK files of the
//   ILSVRC2012 training set decode as they do in torchvision.
// - PNG: grey, grey+alpha, RGB, RGBA, palette (expanded), bit depths 1-8, interlaced or not. Alpha is dropped
//   (PIL's convert("RGB") drops it, it does not composite); tRNS and gAMA are ignored as PIL ignores them.
//   16-bit PNGs are rejected ("16-bit PNG not supported"): PIL converts them inconsistently (grey clipped at 255,
//   colour truncated to the high byte) and ImageNet-style datasets hold none.
// - One channel: PIL's convert("L"), L = (19595 R + 38470 G + 7471 B + 0x8000) >> 16 (grey stays as it is).
// Errors are DataErrors naming the file: unknown format, truncated or corrupt data (libjpeg's "premature end"
// warnings are errors, as PIL raises "image file is truncated"; other libjpeg warnings are ignored, as PIL
// ignores them), images over kMaxImagePixels (checked from the header, before allocating).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace neuroemu {

inline constexpr int64_t kMaxImagePixels = int64_t(1) << 28;

// Interleaved 8-bit pixels: height x width x channels.
struct DecodedImage {
    int64_t width = 0, height = 0, channels = 0;
    std::vector<uint8_t> pixels;
};

// Decodes `bytes` (the contents of `name`, which messages name) to `channels` (1 or 3) channels.
DecodedImage decode_image(const std::vector<uint8_t>& bytes, const std::string& name, int channels = 3);
// Reads and decodes a file.
DecodedImage decode_image_file(const std::string& path, int channels = 3);

}  // namespace neuroemu
