// The dataset readers chosen by dataset.format: cifar10, cifar100 (tiny files written here), image_folder and
// ilsvrc_val (the fixture tree of scripts/make_preprocess_fixtures.py, and broken layouts written here).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "data/dataset_spec.h"
#include "data/image_decode.h"
#include "data/preprocess.h"
#include "data_test_util.h"

namespace neuroemu {
namespace {

using ::testing::HasSubstr;
using test::data_error;
using test::dataset_settings;
using test::fresh_dir;
using test::kFixtures;
using test::read_bytes;
using test::write_bytes;

// ---- CIFAR ----

// `n` records whose pixels are (record seed + index) mod 256, with `labels` label bytes from `label`.
std::vector<uint8_t> cifar_records(int n, const std::vector<int>& label_bytes, int seed) {
    std::vector<uint8_t> out;
    for (int r = 0; r < n; ++r) {
        for (int b : label_bytes) out.push_back(static_cast<uint8_t>(b + r));
        for (int i = 0; i < 3072; ++i) out.push_back(static_cast<uint8_t>(seed + r * 7 + i));
    }
    return out;
}

std::unique_ptr<ImageSource> open(const std::vector<std::string>& overrides, Split split = Split::Test) {
    return open_dataset(dataset_settings(overrides), split);
}

TEST(Cifar10, ReadsBatchesInOrderWithExactPixelsAndLabels) {
    const std::string dir = fresh_dir("cifar10");
    for (int b = 1; b <= 5; ++b)
        write_bytes(dir + "/cifar-10-batches-bin/data_batch_" + std::to_string(b) + ".bin",
                    cifar_records(2, {b}, b * 10));
    write_bytes(dir + "/cifar-10-batches-bin/test_batch.bin", cifar_records(3, {7}, 99));
    const auto train = open({"dataset.format=cifar10", "dataset.path=" + dir}, Split::Train);
    ASSERT_EQ(train->count(), 10);
    EXPECT_EQ(train->channels(), 3);
    EXPECT_EQ(train->height(), 32);
    const ImageSet set = train->read(0, 10);
    EXPECT_EQ(set.labels, (std::vector<int32_t>{1, 2, 2, 3, 3, 4, 4, 5, 5, 6}));
    for (int b = 1; b <= 5; ++b)
        for (int r = 0; r < 2; ++r)
            for (int i : {0, 1024, 3071})  // R, G, B planes
                EXPECT_EQ(set.pixels[((b - 1) * 2 + r) * 3072 + i], static_cast<uint8_t>(b * 10 + r * 7 + i));
    const auto test = open({"dataset.format=cifar10", "dataset.path=" + dir});
    ASSERT_EQ(test->count(), 3);
    EXPECT_EQ(test->read(1, 2).labels, (std::vector<int32_t>{8, 9}));
    EXPECT_EQ(test->read(2, 1).pixels[5], static_cast<uint8_t>(99 + 14 + 5));
}

TEST(Cifar100, FineByDefaultCoarseOnRequest) {
    const std::string dir = fresh_dir("cifar100");
    write_bytes(dir + "/train.bin", cifar_records(2, {3, 50}, 1));
    write_bytes(dir + "/test.bin", cifar_records(4, {19 - 3, 96}, 2));
    const auto fine = open({"dataset.format=cifar100", "dataset.path=" + dir});
    EXPECT_EQ(fine->read(0, 4).labels, (std::vector<int32_t>{96, 97, 98, 99}));
    const auto coarse = open({"dataset.format=cifar100", "dataset.path=" + dir, "dataset.cifar100_labels=coarse"});
    EXPECT_EQ(coarse->read(0, 4).labels, (std::vector<int32_t>{16, 17, 18, 19}));
    const auto train = open({"dataset.format=cifar100", "dataset.path=" + dir}, Split::Train);
    const ImageSet set = train->read(0, 2);
    EXPECT_EQ(set.labels, (std::vector<int32_t>{50, 51}));
    EXPECT_EQ(set.pixels[3072 + 10], static_cast<uint8_t>(1 + 7 + 10));  // record 1: 2 label bytes skipped
}

TEST(Cifar, WrongSizeIsADataErrorNamingFileSizeAndRecord) {
    const std::string dir = fresh_dir("cifar_size");
    auto bytes = cifar_records(2, {1}, 0);
    bytes.pop_back();
    write_bytes(dir + "/test_batch.bin", bytes);
    EXPECT_THAT(data_error([&] { open({"dataset.format=cifar10", "dataset.path=" + dir}); }),
                HasSubstr(dir + "/test_batch.bin: 6145 bytes, not a positive multiple of the 3073-byte record"));
    write_bytes(dir + "/test.bin", {});
    EXPECT_THAT(data_error([&] { open({"dataset.format=cifar100", "dataset.path=" + dir}); }),
                HasSubstr(dir + "/test.bin: 0 bytes, not a positive multiple of the 3074-byte record"));
    EXPECT_THAT(data_error([&] { open({"dataset.format=cifar10", "dataset.path=" + dir}, Split::Train); }),
                HasSubstr(dir + "/data_batch_1.bin"));
}

TEST(Cifar, LabelOutOfRangeNamesFileAndRecord) {
    const std::string dir = fresh_dir("cifar_label");
    write_bytes(dir + "/test_batch.bin", cifar_records(3, {8}, 0));  // labels 8, 9, 10
    EXPECT_THAT(data_error([&] { open({"dataset.format=cifar10", "dataset.path=" + dir}); }),
                HasSubstr(dir + "/test_batch.bin: record 2: label 10 out of range (0..9)"));
    write_bytes(dir + "/test.bin", cifar_records(2, {19, 0}, 0));  // coarse 19, 20
    EXPECT_THAT(data_error([&] { open({"dataset.format=cifar100", "dataset.path=" + dir}); }),
                HasSubstr(dir + "/test.bin: record 1: coarse label 20 out of range (0..19)"));
    write_bytes(dir + "/test.bin", cifar_records(1, {0, 100}, 0));
    EXPECT_THAT(data_error([&] { open({"dataset.format=cifar100", "dataset.path=" + dir}); }),
                HasSubstr(dir + "/test.bin: record 0: fine label 100 out of range (0..99)"));
}

// ---- image folders ----

const std::string kTree = kFixtures + "/imagefolder";

// The references of the fixture cases at `resize`/`crop`, 3 channels, in the readers' order.
std::vector<std::pair<std::string, std::string>> references(int resize, int crop) {
    std::ifstream in(kFixtures + "/reference.txt");
    std::vector<std::pair<std::string, std::string>> out;
    for (std::string line; std::getline(in, line);) {
        std::istringstream f(line);
        std::string image, ref;
        int r, c, ch;
        if (line[0] != '#' && f >> image >> r >> c >> ch >> ref && r == resize && c == crop && ch == 3)
            out.emplace_back(image, ref);
    }
    std::sort(out.begin(), out.end());
    return out;
}

TEST(ImageFolder, ClassesAreSortedSubfoldersAndImagesMatchTheReference) {
    const auto src = open({"dataset.format=image_folder", "dataset.path=" + kTree, "dataset.resize=64",
                           "dataset.crop=56", "dataset.threads=2"});
    const auto refs = references(64, 56);
    ASSERT_EQ(src->count(), 9);
    ASSERT_EQ(refs.size(), 9u);
    EXPECT_EQ(src->channels(), 3);
    EXPECT_EQ(src->height(), 56);
    ASSERT_EQ(src->skipped().size(), 1u);
    EXPECT_THAT(src->skipped()[0], HasSubstr("alpha/notes.txt"));
    const ImageSet set = src->read(0, 9);
    // alpha: 2 images, beta: 3 (upper-case .JPEG included), delta: 1, gamma: 3
    EXPECT_EQ(set.labels, (std::vector<int32_t>{0, 0, 1, 1, 1, 2, 3, 3, 3}));
    for (size_t i = 0; i < refs.size(); ++i) {
        SCOPED_TRACE(refs[i].first);
        const auto ref = read_bytes(kFixtures + "/reference/" + refs[i].second);
        const auto* ours = set.pixels.data() + i * set.image_size();
        int max_diff = 0;
        for (size_t j = 0; j < ref.size(); ++j) max_diff = std::max(max_diff, std::abs(int(ours[j]) - int(ref[j])));
        EXPECT_LE(max_diff, 1);  // the tolerance of image_decode_test.cpp
    }
    // one thread and a read from the middle give the same pixels
    const auto serial = open({"dataset.format=image_folder", "dataset.path=" + kTree, "dataset.resize=64",
                              "dataset.crop=56", "dataset.threads=1"});
    const ImageSet part = serial->read(3, 4);
    EXPECT_TRUE(std::equal(part.pixels.begin(), part.pixels.end(), set.pixels.begin() + 3 * set.image_size()));
    EXPECT_EQ(part.first, 3);  // where it starts in the dataset
}

TEST(ImageFolder, TrainAndValSubfoldersAreTheSplits) {
    const std::string dir = fresh_dir("imagefolder_splits");
    const auto png = read_bytes(kTree + "/beta/grey_83x61.png");
    write_bytes(dir + "/train/a/1.png", png);
    write_bytes(dir + "/train/b/1.png", png);
    write_bytes(dir + "/train/b/2.png", png);
    write_bytes(dir + "/val/a/1.png", png);
    const std::vector<std::string> keys = {"dataset.format=image_folder", "dataset.path=" + dir, "dataset.resize=0",
                                           "dataset.crop=32", "dataset.image_channels=1"};
    EXPECT_EQ(open(keys, Split::Train)->count(), 3);
    const auto val = open(keys, Split::Test);
    ASSERT_EQ(val->count(), 1);
    EXPECT_EQ(val->channels(), 1);
    EXPECT_EQ(val->read(0, 1).pixels.size(), 32u * 32u);
}

TEST(ImageFolder, BadLayoutsAndImagesAreDataErrorsNamingTheFile) {
    const std::string dir = fresh_dir("imagefolder_bad");
    write_bytes(dir + "/a/1.png", read_bytes(kTree + "/beta/grey_83x61.png"));
    std::filesystem::create_directories(dir + "/b");
    write_bytes(dir + "/b/readme.txt", {'x'});
    const std::vector<std::string> keys = {"dataset.format=image_folder", "dataset.path=" + dir, "dataset.resize=0",
                                           "dataset.crop=32"};
    EXPECT_THAT(data_error([&] { open(keys); }),
                HasSubstr(dir + "/b: class folder without .jpg, .jpeg or .png files"));
    auto jpeg = read_bytes(kTree + "/alpha/rgb_301x227.jpg");
    jpeg.resize(jpeg.size() / 3);
    write_bytes(dir + "/b/cut.jpg", jpeg);
    const auto src = open(keys);
    ASSERT_EQ(src->count(), 2);
    EXPECT_EQ(src->skipped().size(), 1u);
    EXPECT_NO_THROW(src->read(0, 1));
    EXPECT_THAT(data_error([&] { src->read(0, 2); }), HasSubstr(dir + "/b/cut.jpg: bad JPEG image"));
    EXPECT_THAT(data_error([&] { open({"dataset.format=image_folder", "dataset.path=" + dir, "dataset.resize=64",
                                       "dataset.crop=65"}); }),
                HasSubstr("dataset.crop 65 is larger than dataset.resize 64"));
    EXPECT_THAT(data_error([&] { open({"dataset.format=image_folder", "dataset.path=" + dir + "/none"}); }),
                HasSubstr(dir + "/none"));
}

// ---- ILSVRC validation folder ----

struct ValFolder {
    std::string dir, labels;
};

ValFolder val_folder(const std::string& name, const std::string& labels_text) {
    ValFolder v{fresh_dir(name), ""};
    const auto png = read_bytes(kTree + "/alpha/rgb_97x150.png");
    const auto jpeg = read_bytes(kTree + "/alpha/rgb_301x227.jpg");
    write_bytes(v.dir + "/ILSVRC2012_val_00000001.JPEG", jpeg);
    write_bytes(v.dir + "/ILSVRC2012_val_00000002.JPEG", png);  // a PNG named .JPEG: known by its signature
    write_bytes(v.dir + "/ILSVRC2012_val_00000003.png", png);
    v.labels = v.dir + "/val.txt";  // in the folder: skipped as a non-image
    std::ofstream(v.labels) << labels_text;
    return v;
}

std::unique_ptr<ImageSource> open_val(const ValFolder& v) {
    return open({"dataset.format=ilsvrc_val", "dataset.path=" + v.dir, "dataset.labels_file=" + v.labels,
                 "dataset.resize=64", "dataset.crop=56"});
}

TEST(IlsvrcVal, LabelsByFileNameOrInSortedOrder) {
    const auto named = open_val(val_folder("val_named", "ILSVRC2012_val_00000003.png 7\n"
                                                        "ILSVRC2012_val_00000001.JPEG 65\n\n"
                                                        "ILSVRC2012_val_00000002.JPEG 970\n"));
    ASSERT_EQ(named->count(), 3);
    EXPECT_EQ(named->skipped().size(), 1u);
    const ImageSet set = named->read(0, 3);
    EXPECT_EQ(set.labels, (std::vector<int32_t>{65, 970, 7}));
    // image 2 and 3 are the same PNG
    EXPECT_TRUE(std::equal(set.pixels.begin() + set.image_size(), set.pixels.begin() + 2 * set.image_size(),
                           set.pixels.begin() + 2 * set.image_size()));
    const auto ordered = open_val(val_folder("val_ordered", "65\n970\n7\n"));
    EXPECT_EQ(ordered->read(0, 3).labels, (std::vector<int32_t>{65, 970, 7}));
}

TEST(IlsvrcVal, MissingImagesAndLabelsAreDataErrors) {
    auto v = val_folder("val_missing", "ILSVRC2012_val_00000001.JPEG 1\nILSVRC2012_val_00000009.JPEG 2\n");
    EXPECT_THAT(data_error([&] { open_val(v); }),
                HasSubstr(v.labels + ":2: names ILSVRC2012_val_00000009.JPEG, which is not an image in " + v.dir));
    v = val_folder("val_unlabelled", "ILSVRC2012_val_00000001.JPEG 1\nILSVRC2012_val_00000003.png 2\n");
    EXPECT_THAT(data_error([&] { open_val(v); }),
                HasSubstr(v.dir + "/ILSVRC2012_val_00000002.JPEG: has no label in " + v.labels));
    v = val_folder("val_short", "1\n2\n");
    EXPECT_THAT(data_error([&] { open_val(v); }),
                HasSubstr("2 labels for the 3 images of " + v.dir + " (" + v.dir + "/ILSVRC2012_val_00000003.png"));
    v = val_folder("val_bad", "1\nseven\n3\n");
    EXPECT_THAT(data_error([&] { open_val(v); }), HasSubstr(v.labels + ":2: label 'seven'"));
    EXPECT_THROW(open({"dataset.format=ilsvrc_val", "dataset.path=" + v.dir}), ConfigError);
}

}  // namespace
}  // namespace neuroemu
