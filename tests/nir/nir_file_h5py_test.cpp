// nir/nir_file against an independent reader: tests/nir/h5_dump.py (h5py) dumps every dataset of a file, and
// read_file must agree on every path, shape, kind and value; files written by write_file must dump (through
// h5py) to the original's values. Registered only where /usr/bin/python3 has h5py (tests/CMakeLists.txt).
#include <cmath>
#include <cstdio>
#include <limits>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "nir/nir_file.h"
#include "nir_test_util.h"

namespace neuroemu::nir {
namespace {

using test::fixture;
using test::Flat;

using Dump = std::map<std::string, Flat>;

// h5py's view of every dataset of each of `paths` (one python run: importing h5py is most of its time).
std::map<std::string, Dump> h5py_dump(const std::vector<std::string>& paths) {
    std::string command = std::string(NEUROEMU_H5PY_PYTHON) + " " + NEUROEMU_SOURCE_DIR + "/tests/nir/h5_dump.py";
    for (const std::string& p : paths) command += " '" + p + "'";
    std::FILE* pipe = ::popen(command.c_str(), "r");
    if (pipe == nullptr) throw std::runtime_error("cannot run " + command);
    std::string text;
    char buffer[1 << 16];
    size_t got;
    while ((got = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) text.append(buffer, got);
    if (::pclose(pipe) != 0) throw std::runtime_error(command + " failed");
    std::map<std::string, Dump> out;
    const nlohmann::json files = nlohmann::json::parse(text);
    for (auto file = files.begin(); file != files.end(); ++file) {
        for (auto it = file.value().begin(); it != file.value().end(); ++it) {
            const nlohmann::json& entry = it.value();
            Flat f;
            f.shape = entry.at("shape").get<std::vector<int64_t>>();
            f.kind = entry.at("kind").get<std::string>()[0];
            for (const auto& v : entry.at("values")) {
                if (f.kind == 's') {
                    f.strings.push_back(v.get<std::string>());
                } else if (v.is_string()) {
                    const std::string s = v.get<std::string>();
                    f.numbers.push_back(s == "nan" ? std::numeric_limits<double>::quiet_NaN()
                                                   : s == "inf" ? INFINITY : -INFINITY);
                } else {
                    f.numbers.push_back(v.get<double>());
                }
            }
            out[file.key()][it.key()] = f;
        }
    }
    return out;
}

bool same_numbers(const std::vector<double>& a, const std::vector<double>& b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
        if (!(a[i] == b[i] || (std::isnan(a[i]) && std::isnan(b[i])))) return false;
    return true;
}

void expect_same(const std::map<std::string, Flat>& expected, const std::map<std::string, Flat>& actual,
                 const std::string& what) {
    ASSERT_EQ(expected.size(), actual.size()) << what;
    for (const auto& [path, x] : expected) {
        ASSERT_TRUE(actual.count(path)) << what << ": " << path << " missing";
        const Flat& y = actual.at(path);
        EXPECT_EQ(x.shape, y.shape) << what << ": " << path;
        EXPECT_EQ(x.kind, y.kind) << what << ": " << path;
        EXPECT_TRUE(same_numbers(x.numbers, y.numbers)) << what << ": " << path;
        EXPECT_EQ(x.strings, y.strings) << what << ": " << path;
    }
}

TEST(NirFileH5py, EveryDatasetOfEveryFixtureEqualsH5pysValue) {
    std::vector<std::string> paths;
    for (const std::string& name : test::fixtures()) paths.push_back(fixture(name));
    const auto dumps = h5py_dump(paths);
    for (const std::string& name : test::fixtures()) {
        const Dump& reference = dumps.at(fixture(name));
        ASSERT_GT(reference.size(), 5u) << name;
        expect_same(reference, test::flatten(read_file(fixture(name))), name);
    }
}

TEST(NirFileH5py, WrittenFilesReadBackThroughH5py) {
    std::vector<std::string> paths;
    for (const std::string& name : test::fixtures()) {
        paths.push_back(fixture(name));
        paths.push_back(test::temp_path(name));
        write_file(paths.back(), read_file(fixture(name)));
    }
    const auto dumps = h5py_dump(paths);
    for (size_t i = 0; i < paths.size(); i += 2) {
        // Values, shapes and kinds as the original's; integer widths may widen (int64), floats keep their width.
        expect_same(dumps.at(paths[i]), dumps.at(paths[i + 1]), paths[i + 1]);
        std::remove(paths[i + 1].c_str());
    }
}

}  // namespace
}  // namespace neuroemu::nir
