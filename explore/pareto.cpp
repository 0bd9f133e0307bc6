#include "explore/pareto.h"

namespace neuroemu::explore {

bool dominates(const std::vector<double>& a, const std::vector<double>& b, const std::vector<bool>& maximise) {
    bool strictly = false;
    for (size_t k = 0; k < maximise.size(); ++k) {
        const double x = maximise[k] ? a[k] : -a[k], y = maximise[k] ? b[k] : -b[k];  // larger is better
        if (!(x >= y)) return false;                                                      // worse, or NaN
        if (x > y) strictly = true;
    }
    return strictly;
}

std::vector<size_t> pareto_front(const std::vector<std::vector<double>>& values, const std::vector<bool>& maximise) {
    std::vector<size_t> front;
    for (size_t i = 0; i < values.size(); ++i) {
        bool dominated = false;
        for (size_t j = 0; j < values.size() && !dominated; ++j) dominated = j != i && dominates(values[j], values[i], maximise);
        if (!dominated) front.push_back(i);
    }
    return front;
}

}  // namespace neuroemu::explore
