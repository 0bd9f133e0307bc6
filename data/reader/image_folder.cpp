// The `image_folder` reader: ROOT/<class>/<image>, as torchvision's ImageFolder reads it. Classes are the
// subfolders in byte order, a class's label its index; a class's images are its .jpg/.jpeg/.png files (any
// case) in byte order; other files are skipped and counted. When ROOT has both train/ and val/ (the ImageNet
// layout), the Train split is ROOT/train and the Test split ROOT/val; otherwise both are ROOT.
#include <fmt/format.h>

#include <filesystem>

#include "common/error.h"
#include "data/reader/image_files.h"

namespace neuroemu {
namespace {

class ImageFolderReader final : public DatasetReader {
public:
    explicit ImageFolderReader(ImageFileOptions options) : options_(std::move(options)) {}

    std::unique_ptr<ImageSource> open(const DatasetRequest& request) const override {
        namespace fs = std::filesystem;
        std::string root = request.dir;
        if (fs::is_directory(root + "/train") && fs::is_directory(root + "/val"))
            root += request.split == Split::Train ? "/train" : "/val";
        const auto classes = sorted_entries(root, true);
        if (classes.empty()) throw DataError(fmt::format("{}: no class folders (expected ROOT/<class>/<image>)", root));
        ImageFiles files;
        for (size_t label = 0; label < classes.size(); ++label) {
            const std::string dir = root + "/" + classes[label];
            const size_t before = files.paths.size();
            add_image_files(dir, static_cast<int32_t>(label), files);
            if (files.paths.size() == before)
                throw DataError(fmt::format("{}: class folder without .jpg, .jpeg or .png files", dir));
        }
        return image_file_source(std::move(files), options_);
    }

private:
    ImageFileOptions options_;
};

}  // namespace

void register_image_folder(Family<DatasetReader>& family) {
    family.add({"image_folder",
                "ROOT/<class>/<image>.{jpg,jpeg,png} as torchvision's ImageFolder (ROOT/train and ROOT/val when "
                "both exist), resized and centre-cropped as torchvision's evaluation transform.",
                image_file_params()},
               [](const Settings& s) { return std::make_unique<ImageFolderReader>(image_file_options(s)); });
}

}  // namespace neuroemu
