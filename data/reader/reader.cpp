#include "data/reader/reader.h"

namespace neuroemu {

// The built-in implementations (one file each); see common/registry.h for why they are registered by calls.
void register_idx(Family<DatasetReader>& family);
void register_synthetic(Family<DatasetReader>& family);
void register_cifar10(Family<DatasetReader>& family);
void register_cifar100(Family<DatasetReader>& family);
void register_image_folder(Family<DatasetReader>& family);
void register_ilsvrc_val(Family<DatasetReader>& family);

Family<DatasetReader>& dataset_readers() {
    static Family<DatasetReader> family("dataset_reader", "dataset.format", "File format of dataset.path.");
    static const bool builtins = (register_idx(family), register_synthetic(family), register_cifar10(family),
                                  register_cifar100(family), register_image_folder(family),
                                  register_ilsvrc_val(family), true);
    (void)builtins;
    return family;
}

}  // namespace neuroemu
