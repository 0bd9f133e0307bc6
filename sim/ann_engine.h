// Reference ANN inference on the IR: float32, multi-threaded over the batch.
//
// This is the yardstick the spiking engine is measured against (accuracy, activations for normalisation), so
// it follows PyTorch's semantics exactly (pooling windows, ceil_mode, count_include_pad).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "data/idx_dataset.h"
#include "model/network.h"

namespace neuroemu {

class Progress;

struct AnnOptions {
    int threads = 0;         // 0 = all hardware threads
    int micro_batch = 4;     // images that one worker pushes through the network together
    bool keep_logits = false;
};

struct AnnResult {
    int64_t images = 0;
    int64_t correct = 0;     // top-1 hits
    double seconds = 0.0;    // wall time of inference alone (no data loading)
    bool labelled = true;    // false: synthetic input, accuracy is not meaningful
    std::vector<float> logits;  // images x classes, when AnnOptions::keep_logits
    double top1() const { return images ? static_cast<double>(correct) / static_cast<double>(images) : 0.0; }
};

// Sees chosen layers' activations as the engine computes them: fn(worker, image, layer, values) with the
// layer's output for that image in [C][H][W] (or [N]) order. `layers` is indexed by layer id. A Conv2d whose
// only reader is a ReLU is computed with the ReLU fused in, so tapping it shows the ReLU's output.
struct ActivationTap {
    std::vector<char> layers;
    std::function<void(int worker, int64_t image, int layer, const float* values)> fn;
};

class AnnEngine {
public:
    explicit AnnEngine(const Network& net);
    ~AnnEngine();
    AnnEngine(const AnnEngine&) = delete;
    AnnEngine& operator=(const AnnEngine&) = delete;

    // Single-threaded forward pass of `count` inputs laid out [count][C][H][W]; writes [count][outputs].
    // A tap, if given, sees images first_image .. first_image + count - 1 as `worker`.
    void forward(const float* input, int64_t count, float* output, const ActivationTap* tap = nullptr,
                 int64_t first_image = 0, int worker = 0) const;

    // Classifies images [0, set.count) on options.threads workers. Throws DataError when an image does not
    // match the network input or a label is not a valid class.
    AnnResult evaluate(const ImageSet& set, const InputNormalisation& norm, const AnnOptions& options,
                       Progress* progress = nullptr, const ActivationTap* tap = nullptr) const;

    int64_t input_size() const;
    int64_t output_size() const;

private:
    struct PreparedNetwork;  // the network laid out for inference: blocked weights, buffer plan
    std::unique_ptr<PreparedNetwork> prepared_;
};

}  // namespace neuroemu
