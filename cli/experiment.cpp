#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/schema.h"

namespace neuroemu {

namespace {
bool ends_with(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}
}  // namespace

Settings load_experiment(const CommonOptions& opts, std::vector<std::string> extra_sets) {
    std::vector<std::string> sets;
    std::string file = opts.target;
    if (ends_with(file, ".onnx")) {
        sets.push_back("model.onnx=" + file);
        file.clear();
    }
    sets.insert(sets.end(), opts.sets.begin(), opts.sets.end());
    sets.insert(sets.end(), extra_sets.begin(), extra_sets.end());
    if (opts.seed) sets.push_back(fmt::format("seed={}", *opts.seed));
    return neuroemu_schema().load(file, sets);
}

}  // namespace neuroemu
