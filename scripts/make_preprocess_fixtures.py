#!/usr/bin/python3
"""Writes the image fixtures of tests/data/ and torchvision's preprocessing of them (the reference).

Run with Debian's interpreter (python3-pil, python3-torch, python3-torchvision):
    /usr/bin/python3 scripts/make_preprocess_fixtures.py [OUT_DIR]   # default tests/data/fixtures

Creates a handful of small images deterministically (JPEG and PNG, odd sizes, grey, colour, palette, RGBA,
grey+alpha, 1-bit, CMYK, a progressive JPEG, an upper-case extension) as an ImageFolder tree
OUT/imagefolder/<class>/<image> (plus one non-image file the readers must skip), and for each case in CASES
the reference: PIL's image after torchvision's Resize(R) and CenterCrop(C), loaded as torchvision's
default_loader does (convert("RGB"), or convert("L") for one channel), saved as raw uint8 bytes,
channels x C x C, in OUT/reference/. OUT/reference.txt lists the cases, one per line:
    IMAGE RESIZE CROP CHANNELS REFERENCE TOP1
TOP1 is the argmax of a fixed projection (4 x N weights from splitmix64, seed 2024, uniform in [-1, 1)) of
Compose([Resize, CenterCrop, ToTensor, Normalize(MEAN, STD)]) computed by torch in float64: the C++ test
computes the same projection of neuroemu's pixels and checks that the top-1 agrees.
"""
import io
import os
import sys

import numpy as np
import torch
from PIL import Image
from torchvision import transforms
from torchvision.datasets.folder import default_loader

MEAN3, STD3 = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)  # torchvision's ImageNet normalisation
MEAN1, STD1 = (0.5,), (0.25,)
CLASSES = 4
SEED = 2024


def splitmix64(state):
    state = (state + 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    return state, z ^ (z >> 31)


def projection(n):
    """CLASSES x n weights, row-major, each (z >> 11) * 2^-53 * 2 - 1 from one splitmix64 stream."""
    state, w = SEED, np.empty(CLASSES * n, dtype=np.float64)
    for i in range(CLASSES * n):
        state, z = splitmix64(state)
        w[i] = (z >> 11) * 2.0**-53 * 2.0 - 1.0
    return w.reshape(CLASSES, n)


def pattern(w, h, channels, seed):
    """Smooth gradients, a disc and a checker patch, with mild noise: edges for the filter, small as JPEG."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    planes = []
    for c in range(channels):
        p = 128 + 100 * np.sin((x * (c + 1) / w + y / h) * np.pi * 1.5 + c)
        p[(x - w * 0.6) ** 2 + (y - h * 0.4) ** 2 < (min(w, h) * 0.2) ** 2] = 40 + 70 * c
        checker = ((x // 7 + y // 5) % 2 == 0) & (x < w * 0.3) & (y > h * 0.6)
        p[checker] = 250 - 30 * c
        planes.append(p + rng.normal(0, 6, size=p.shape))
    return np.clip(np.stack(planes, -1), 0, 255).round().astype(np.uint8)


def make_images():
    """{relative path: encoded bytes}"""
    out = {}

    def save(path, image, **options):
        buf = io.BytesIO()
        image.save(buf, format="JPEG" if path.lower().endswith((".jpg", ".jpeg")) else "PNG", **options)
        out[path] = buf.getvalue()

    save("alpha/rgb_301x227.jpg", Image.fromarray(pattern(301, 227, 3, 1), "RGB"), quality=90)
    save("alpha/rgb_97x150.png", Image.fromarray(pattern(97, 150, 3, 2), "RGB"))
    save("beta/grey_640x479.JPEG", Image.fromarray(pattern(640, 479, 1, 3)[..., 0], "L"), quality=75,
         progressive=True)
    save("beta/grey_83x61.png", Image.fromarray(pattern(83, 61, 1, 4)[..., 0], "L"))
    save("beta/bits_33x47.png", Image.fromarray(pattern(33, 47, 1, 5)[..., 0] > 128))  # mode "1": 1-bit PNG
    palette = Image.fromarray(pattern(120, 90, 3, 6), "RGB").quantize(colors=37, dither=Image.Dither.NONE)
    save("gamma/palette_120x90.png", palette, transparency=3)  # tRNS: PIL's convert("RGB") ignores it
    rgba = pattern(150, 97, 4, 7)
    save("gamma/rgba_150x97.png", Image.fromarray(rgba, "RGBA"))
    save("gamma/la_64x80.png", Image.fromarray(pattern(64, 80, 2, 8), "LA"))
    save("delta/cmyk_200x133.jpg", Image.fromarray(pattern(200, 133, 4, 9), "CMYK"), quality=90)
    return out


# (image, resize, crop, channels)
CASES = [(p, 64, 56, 3) for p in (
    "alpha/rgb_301x227.jpg", "alpha/rgb_97x150.png", "beta/grey_640x479.JPEG", "beta/grey_83x61.png",
    "beta/bits_33x47.png", "gamma/palette_120x90.png", "gamma/rgba_150x97.png", "gamma/la_64x80.png",
    "delta/cmyk_200x133.jpg")] + [
    ("alpha/rgb_301x227.jpg", 256, 224, 3),   # torchvision's defaults: an upscale (227 -> 256)
    ("beta/grey_640x479.JPEG", 256, 224, 3),  # and a downscale (479 -> 256)
    ("alpha/rgb_97x150.png", 63, 56, 3),      # odd margins: CenterCrop rounds half to even
    ("alpha/rgb_97x150.png", 0, 56, 3),       # no resize
    ("alpha/rgb_301x227.jpg", 64, 56, 1),     # convert("L")
    ("gamma/rgba_150x97.png", 64, 56, 1),
    ("delta/cmyk_200x133.jpg", 64, 56, 1),
]


def reference(path, resize, crop, channels):
    """(PIL image after Resize and CenterCrop, the normalised tensor), as torchvision computes them."""
    img = default_loader(path) if channels == 3 else Image.open(path).convert("L")
    steps = ([transforms.Resize(resize)] if resize else []) + [transforms.CenterCrop(crop)]
    cropped = transforms.Compose(steps)(img)
    mean, std = (MEAN3, STD3) if channels == 3 else (MEAN1, STD1)
    tensor = transforms.Normalize(mean, std)(transforms.ToTensor()(cropped))
    return cropped, tensor


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "tests/data/fixtures")
    torch.set_num_threads(1)
    for rel, data in make_images().items():
        path = os.path.join(out, "imagefolder", rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
    with open(os.path.join(out, "imagefolder/alpha/notes.txt"), "w") as f:
        f.write("Not an image: the image readers skip and count this file.\n")
    os.makedirs(os.path.join(out, "reference"), exist_ok=True)
    lines = ["# IMAGE RESIZE CROP CHANNELS REFERENCE TOP1 (scripts/make_preprocess_fixtures.py)"]
    weights = {}
    for rel, resize, crop, channels in CASES:
        cropped, tensor = reference(os.path.join(out, "imagefolder", rel), resize, crop, channels)
        pixels = np.asarray(cropped, dtype=np.uint8).reshape(crop, crop, channels).transpose(2, 0, 1)
        # the saved bytes are ToTensor's values exactly: ToTensor divides by 255
        mean, std = (MEAN3, STD3) if channels == 3 else (MEAN1, STD1)
        again = transforms.Normalize(mean, std)(torch.from_numpy(pixels.copy()).double() / 255.0)
        assert torch.allclose(again, tensor.double(), atol=1e-6)
        n = pixels.size
        if n not in weights:
            weights[n] = torch.from_numpy(projection(n))
        top1 = int(torch.argmax(weights[n] @ tensor.double().reshape(-1)))
        name = "{}_r{}_c{}_ch{}.raw".format(os.path.splitext(os.path.basename(rel))[0], resize, crop, channels)
        with open(os.path.join(out, "reference", name), "wb") as f:
            f.write(pixels.tobytes())
        lines.append("{} {} {} {} {} {}".format(rel, resize, crop, channels, name, top1))
    with open(os.path.join(out, "reference.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
