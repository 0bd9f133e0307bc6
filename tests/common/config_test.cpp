#include "common/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/error.h"

namespace neuroemu {
namespace {

using ::testing::HasSubstr;

Schema test_schema() {
    const double inf = std::numeric_limits<double>::infinity();
    return Schema({{"model", "m"}, {"chip", "c"}, {"energy", "e"}},
                  {
                      ParamSpec("seed", ParamKind::Int, "1", "", "seed").range(0, inf),
                      ParamSpec("model.onnx", ParamKind::Path, "", "", "file"),
                      ParamSpec("model.zoo", ParamKind::Enum, "", "", "arch").one_of({"resnet18", "resnet20"}),
                      ParamSpec("model.input", ParamKind::IntList, "[1, 28, 28]", "", "shape").items(3, 3).range(1, 64),
                      ParamSpec("model.scale", ParamKind::Real, "0.5", "", "scale").range(0, 1),
                      ParamSpec("chip.core.neurons", ParamKind::Int, "256", "neurons", "n").range(1, 1024),
                      ParamSpec("chip.fast", ParamKind::Bool, "false", "", "b"),
                  });
}

// Returns the ConfigError message of `fn`, failing the test when none is thrown.
template <typename Fn>
std::string error_of(Fn&& fn) {
    try {
        fn();
    } catch (const ConfigError& e) {
        return e.what();
    }
    ADD_FAILURE() << "no ConfigError thrown";
    return "";
}

std::filesystem::path temp_dir() {
    auto dir = std::filesystem::temp_directory_path() /
               ("neuroemu_config_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    std::filesystem::create_directories(dir);
    return dir;
}

void write(const std::filesystem::path& p, const std::string& text) { std::ofstream(p) << text; }

TEST(Config, DefaultsApplyWhenKeysAreAbsent) {
    const Settings s = test_schema().parse("model:\n  zoo: resnet20\n", "x.yaml", "");
    EXPECT_EQ(s.get_int("seed"), 1);
    EXPECT_EQ(s.get_ints("model.input"), (std::vector<int64_t>{1, 28, 28}));
    EXPECT_EQ(s.get_string("model.zoo"), "resnet20");
    EXPECT_FALSE(s.has("model.onnx"));
    EXPECT_EQ(s.where("seed"), "default");
    EXPECT_EQ(s.where("model.zoo"), "x.yaml:2:8");
}

TEST(Config, UnknownKeyNamesLineColumnAndSuggestion) {
    const auto msg = error_of([] { test_schema().parse("model:\n  zooo: resnet20\n", "exp.yaml", ""); });
    EXPECT_THAT(msg, HasSubstr("exp.yaml:2:3"));
    EXPECT_THAT(msg, HasSubstr("unknown key 'model.zooo'"));
    EXPECT_THAT(msg, HasSubstr("did you mean 'model.zoo'"));
    EXPECT_THAT(msg, HasSubstr("onnx, zoo, input, scale"));
}

TEST(Config, UnknownSectionIsAnError) {
    EXPECT_THAT(error_of([] { test_schema().parse("modle: {}\n", "e.yaml", ""); }),
                HasSubstr("e.yaml:1:1: unknown key 'modle' (did you mean 'model'?)"));
}

TEST(Config, KeysInASectionWithoutKeysAreRejected) {
    EXPECT_THAT(error_of([] { test_schema().parse("energy:\n  sop_j: 1\n", "e.yaml", ""); }),
                HasSubstr("section 'energy' has no keys"));
}

TEST(Config, WrongTypeNamesKeyAndExpectation) {
    const auto msg = error_of([] { test_schema().parse("chip:\n  core:\n    neurons: many\n", "c.yaml", ""); });
    EXPECT_THAT(msg, HasSubstr("c.yaml:3:14: chip.core.neurons: expected an integer in [1, 1024], got 'many'"));
    EXPECT_THAT(error_of([] { test_schema().parse("seed: 1.5\n", "c.yaml", ""); }), HasSubstr("got '1.5'"));
    EXPECT_THAT(error_of([] { test_schema().parse("chip: {fast: maybe}\n", "c.yaml", ""); }),
                HasSubstr("chip.fast: expected true or false"));
}

TEST(Config, OutOfRangeValuesAreRejected) {
    EXPECT_THAT(error_of([] { test_schema().parse("chip: {core: {neurons: 0}}\n", "c.yaml", ""); }),
                HasSubstr("in [1, 1024], got '0'"));
    EXPECT_THAT(error_of([] { test_schema().parse("model: {scale: 1.5}\n", "c.yaml", ""); }),
                HasSubstr("model.scale: expected a finite number in [0, 1]"));
    EXPECT_THAT(error_of([] { test_schema().parse("model: {scale: .nan}\n", "c.yaml", ""); }),
                HasSubstr("model.scale"));
}

// A command-line option's text is checked exactly as the key's YAML value would be: same bounds, same wording.
TEST(Config, OptionTextHasTheBoundsOfItsParamSpec) {
    const ParamSpec steps = ParamSpec("simulation.steps", ParamKind::Int, "32", "steps", "T").range(1, 65535);
    EXPECT_EQ(std::get<int64_t>(parse_param_text(steps, "65535", "--steps")), 65535);
    EXPECT_THAT(error_of([&] { parse_param_text(steps, "0", "--steps (simulation.steps)"); }),
                HasSubstr("--steps (simulation.steps): expected an integer in [1, 65535], got '0'"));
    EXPECT_THAT(error_of([&] { parse_param_text(steps, "65536", "--steps"); }), HasSubstr("[1, 65535]"));
    EXPECT_THAT(error_of([&] { parse_param_text(steps, "2.5", "--steps"); }), HasSubstr("got '2.5'"));
    EXPECT_THAT(error_of([&] { parse_param_text(steps, "", "--steps"); }), HasSubstr("an integer"));
    EXPECT_THAT(error_of([&] { parse_param_text(steps, "[1", "--steps"); }), HasSubstr("got '[1'"));
    const ParamSpec rate = ParamSpec("rate", ParamKind::Real, "", "", "R").range(0, 1);
    EXPECT_DOUBLE_EQ(std::get<double>(parse_param_text(rate, "0.25", "--rate")), 0.25);
    EXPECT_THAT(error_of([&] { parse_param_text(rate, "1.5", "--rate"); }),
                HasSubstr("--rate: expected a finite number in [0, 1], got '1.5'"));
}

TEST(Config, EnumListsTheAllowedChoices) {
    EXPECT_THAT(error_of([] { test_schema().parse("model: {zoo: resnet19}\n", "c.yaml", ""); }),
                HasSubstr("model.zoo: expected one of resnet18, resnet20, got 'resnet19'"));
}

TEST(Config, ListLengthAndElementsAreChecked) {
    EXPECT_THAT(error_of([] { test_schema().parse("model: {input: [1, 28]}\n", "c.yaml", ""); }),
                HasSubstr("a list of 3 integers in [1, 64]"));
    EXPECT_THAT(error_of([] { test_schema().parse("model: {input: [1, 28, 99]}\n", "c.yaml", ""); }),
                HasSubstr("model.input"));
    EXPECT_THAT(error_of([] { test_schema().parse("model: {input: 3}\n", "c.yaml", ""); }), HasSubstr("got '3'"));
}

TEST(Config, SectionMustBeAMapping) {
    EXPECT_THAT(error_of([] { test_schema().parse("model: [1, 2]\n", "c.yaml", ""); }),
                HasSubstr("c.yaml:1:8: model: expected a mapping of keys or the name of a file"));
    EXPECT_THAT(error_of([] { test_schema().parse("- a\n- b\n", "c.yaml", ""); }),
                HasSubstr("expected a mapping of sections"));
}

TEST(Config, InvalidYamlReportsLine) {
    EXPECT_THAT(error_of([] { test_schema().parse("model:\n  zoo: [resnet20\n", "bad.yaml", ""); }),
                HasSubstr("bad.yaml:"));
}

TEST(Config, DuplicateKeysAreRejected) {
    EXPECT_THAT(error_of([] { test_schema().parse("seed: 1\nseed: 2\n", "d.yaml", ""); }),
                HasSubstr("d.yaml:2:1: duplicate key 'seed'"));
}

TEST(Config, OverridesApplyAfterTheFileAndAreValidated) {
    const Settings s = test_schema().parse("seed: 3\n", "c.yaml", "", {"seed=7", "model.input=[3, 32, 32]"});
    EXPECT_EQ(s.get_int("seed"), 7);
    EXPECT_EQ(s.where("seed"), "--set seed=7");
    EXPECT_EQ(s.get_ints("model.input"), (std::vector<int64_t>{3, 32, 32}));
    EXPECT_THAT(error_of([] { test_schema().parse("", "", "", {"chip.core.neurons=big"}); }),
                HasSubstr("--set chip.core.neurons=big: chip.core.neurons: expected an integer"));
    EXPECT_THAT(error_of([] { test_schema().parse("", "", "", {"chip.core.neuron=4"}); }),
                HasSubstr("unknown key 'chip.core.neuron' (did you mean 'chip.core.neurons'?)"));
    EXPECT_THAT(error_of([] { test_schema().parse("", "", "", {"seed"}); }), HasSubstr("expected key.path=value"));
}

TEST(Config, SectionCanLiveInItsOwnFileWithErrorsPointingIntoIt) {
    const auto dir = temp_dir();
    std::filesystem::create_directories(dir / "chips");
    write(dir / "chips" / "small.yaml", "core:\n  neurons: 128\n");
    write(dir / "exp.yaml", "chip: chips/small.yaml\nmodel:\n  onnx: ../m.onnx\n");
    const Settings s = test_schema().load((dir / "exp.yaml").string());
    EXPECT_EQ(s.get_int("chip.core.neurons"), 128);
    EXPECT_EQ(s.where("chip.core.neurons"), (dir / "chips" / "small.yaml").string() + ":2:12");
    EXPECT_EQ(s.get_path("model.onnx"), (dir / "../m.onnx").string());

    write(dir / "chips" / "bad.yaml", "core:\n  neurons: -3\n");
    write(dir / "exp2.yaml", "chip: chips/bad.yaml\n");
    EXPECT_THAT(error_of([&] { test_schema().load((dir / "exp2.yaml").string()); }),
                HasSubstr("bad.yaml:2:12: chip.core.neurons"));
    write(dir / "exp3.yaml", "chip: chips/missing.yaml\n");
    EXPECT_THAT(error_of([&] { test_schema().load((dir / "exp3.yaml").string()); }),
                HasSubstr("exp3.yaml:1:7: chip: cannot open"));
}

TEST(Config, OverrideCanReplaceASectionFromAFile) {
    const auto dir = temp_dir();
    write(dir / "big.yaml", "core:\n  neurons: 1000\n");
    write(dir / "bad.yaml", "core:\n  neurons: 4096\n");
    write(dir / "exp.yaml", "chip:\n  core:\n    neurons: 128\n  fast: true\n");
    const Settings s = test_schema().load((dir / "exp.yaml").string(), {"chip=" + (dir / "big.yaml").string()});
    EXPECT_EQ(s.get_int("chip.core.neurons"), 1000);  // set by the file given on the command line
    EXPECT_TRUE(s.get_bool("chip.fast"));             // a key that file leaves alone keeps its value
    EXPECT_EQ(s.where("chip.core.neurons"), (dir / "big.yaml").string() + ":2:12");
    EXPECT_THAT(error_of([&] { test_schema().load("", {"chip=" + (dir / "bad.yaml").string()}); }),
                HasSubstr("bad.yaml:2:12: chip.core.neurons"));
    EXPECT_THAT(error_of([&] { test_schema().load("", {"chip=" + (dir / "none.yaml").string()}); }),
                HasSubstr("--set chip=" + (dir / "none.yaml").string() + ": cannot open"));
    EXPECT_THAT(error_of([&] { test_schema().load("", {"chip="}); }), HasSubstr("expected the name of a file"));
}

TEST(Config, MissingFileIsAConfigError) {
    EXPECT_THAT(error_of([] { test_schema().load("/nonexistent/x.yaml"); }),
                HasSubstr("/nonexistent/x.yaml: cannot open"));
}

TEST(Config, NullLeavesOptionalKeysUnsetButNotRequiredOnes) {
    EXPECT_FALSE(test_schema().parse("model: {zoo: ~}\n", "c.yaml", "").has("model.zoo"));
    EXPECT_THAT(error_of([] { test_schema().parse("seed: ~\n", "c.yaml", ""); }), HasSubstr("got nothing"));
}

TEST(Config, ReferenceDocumentsEveryKeyWithDefaultAndUnit) {
    const Schema schema = test_schema();
    const std::string md = schema.markdown();
    for (const auto& p : schema.params()) EXPECT_THAT(md, HasSubstr("`" + p.key + "`"));
    EXPECT_THAT(md, HasSubstr("| `chip.core.neurons` | int | `256` | neurons | [1, 1024] |"));
    EXPECT_THAT(md, HasSubstr("## `energy`"));
}

TEST(Config, InvalidDefaultIsAnInternalError) {
    EXPECT_THROW(Schema({}, {ParamSpec("x", ParamKind::Int, "abc", "", "")}), InternalError);
}

}  // namespace
}  // namespace neuroemu
