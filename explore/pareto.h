// The Pareto front of a set of points over several objectives.
#pragma once

#include <cstddef>
#include <vector>

namespace neuroemu::explore {

// `values[i][k]` is point i's value of objective k; `maximise[k]` says which way objective k is better.
// a dominates b when a is at least as good in every objective and strictly better in at least one. Returns the
// indices of the points no other point dominates, in increasing order: points with equal values are all kept,
// and NaN values never dominate nor are dominated (callers leave such points out). O(n^2 k).
std::vector<size_t> pareto_front(const std::vector<std::vector<double>>& values, const std::vector<bool>& maximise);

// Whether a dominates b (same conventions).
bool dominates(const std::vector<double>& a, const std::vector<double>& b, const std::vector<bool>& maximise);

}  // namespace neuroemu::explore
