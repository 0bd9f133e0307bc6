// The `ilsvrc_val` reader: the flat ILSVRC2012 validation layout, one folder of images
// (ILSVRC2012_val_00000001.JPEG, ...) and a labels file, dataset.labels_file. The images are the folder's
// .jpg/.jpeg/.png files in byte order (other files are skipped and counted). The labels file has one line per
// image, all lines of one form:
//   "FILENAME LABEL"  the image's file name in the folder and its label (e.g. Caffe's val.txt), any order; or
//   "LABEL"           the labels of the images in byte order of their names.
// LABEL is a non-negative integer, used as it is: torchvision's class index for the sorted WordNet ids (as in
// val.txt), NOT the devkit's 1-based ILSVRC2012_ID of ILSVRC2012_validation_ground_truth.txt, which must be
// mapped first. Blank lines are ignored. The folder serves both splits.
#include <fmt/format.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include "common/error.h"
#include "data/reader/image_files.h"

namespace neuroemu {
namespace {

struct LabelLine {
    int64_t line;
    std::string name;  // empty in the "LABEL" form
    int32_t label;
};

std::vector<LabelLine> read_labels(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw DataError(fmt::format("{}: cannot open the labels file (dataset.labels_file)", path));
    std::vector<LabelLine> lines;
    std::string text;
    for (int64_t number = 1; std::getline(in, text); ++number) {
        std::istringstream fields(text);
        std::vector<std::string> words;
        for (std::string w; fields >> w;) words.push_back(w);
        if (words.empty()) continue;
        const std::string where = fmt::format("{}:{}", path, number);
        if (words.size() > 2)
            throw DataError(fmt::format("{}: expected \"FILENAME LABEL\" or \"LABEL\", got '{}'", where, text));
        char* end = nullptr;
        const long value = std::strtol(words.back().c_str(), &end, 10);
        if (*end != '\0' || value < 0 || value > INT32_MAX)
            throw DataError(fmt::format("{}: label '{}' is not a non-negative integer", where, words.back()));
        const std::string name = words.size() == 2 ? words[0] : "";
        if (!lines.empty() && lines.front().name.empty() != name.empty())
            throw DataError(fmt::format("{}: mixes \"FILENAME LABEL\" and \"LABEL\" lines", where));
        lines.push_back({number, name, static_cast<int32_t>(value)});
    }
    return lines;
}

class IlsvrcValReader final : public DatasetReader {
public:
    IlsvrcValReader(ImageFileOptions options, std::string labels_file)
        : options_(std::move(options)), labels_file_(std::move(labels_file)) {}

    std::unique_ptr<ImageSource> open(const DatasetRequest& request) const override {
        ImageFiles files;
        add_image_files(request.dir, 0, files);
        if (files.paths.empty()) throw DataError(fmt::format("{}: no .jpg, .jpeg or .png files", request.dir));
        const auto lines = read_labels(labels_file_);
        if (!lines.empty() && lines.front().name.empty()) {
            if (lines.size() != files.paths.size())
                throw DataError(fmt::format(
                    "{}: {} labels for the {} images of {}{}", labels_file_, lines.size(), files.paths.size(),
                    request.dir,
                    lines.size() < files.paths.size() ? fmt::format(" ({} has no label)", files.paths[lines.size()])
                                                      : std::string()));
            for (size_t i = 0; i < lines.size(); ++i) files.labels[i] = lines[i].label;
        } else {
            std::map<std::string, size_t> index;  // file name -> position
            for (size_t i = 0; i < files.paths.size(); ++i)
                index[files.paths[i].substr(request.dir.size() + 1)] = i;
            std::vector<bool> labelled(files.paths.size(), false);
            for (const auto& l : lines) {
                const auto it = index.find(l.name);
                if (it == index.end())
                    throw DataError(fmt::format("{}:{}: names {}, which is not an image in {}", labels_file_, l.line,
                                                l.name, request.dir));
                if (labelled[it->second])
                    throw DataError(fmt::format("{}:{}: {} labelled twice", labels_file_, l.line, l.name));
                labelled[it->second] = true;
                files.labels[it->second] = l.label;
            }
            for (size_t i = 0; i < files.paths.size(); ++i)
                if (!labelled[i])
                    throw DataError(fmt::format("{}: has no label in {}", files.paths[i], labels_file_));
        }
        return image_file_source(std::move(files), options_);
    }

private:
    ImageFileOptions options_;
    std::string labels_file_;
};

}  // namespace

void register_ilsvrc_val(Family<DatasetReader>& family) {
    std::vector<ParamSpec> params = image_file_params();
    params.push_back(ParamSpec("dataset.labels_file", ParamKind::Path, "", "",
                               "ilsvrc_val: the labels file, one line per image, \"FILENAME LABEL\" or \"LABEL\" "
                               "(labels of the images in sorted order); LABEL is the class index."));
    family.add({"ilsvrc_val",
                "the flat ILSVRC2012 validation folder (ILSVRC2012_val_*.JPEG) with dataset.labels_file, "
                "preprocessed as image_folder.",
                params},
               [](const Settings& s) {
                   if (!s.has("dataset.labels_file"))
                       throw ConfigError("dataset.format ilsvrc_val needs dataset.labels_file");
                   return std::make_unique<IlsvrcValReader>(image_file_options(s), s.get_path("dataset.labels_file"));
               });
}

}  // namespace neuroemu
