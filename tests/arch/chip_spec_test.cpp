// The chip description's one declaration per field (arch/chip_fields.h): everything derived from it agrees with
// it, so that no copy can drift: the struct's defaults, the `chip.*` configuration keys and their parsing, the
// documentation, the enum spellings and the range checks. The `.map` header's copy is checked in
// tests/mapping/map_file_test.cpp.
#include "arch/chip_spec.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "arch/chip_fields.h"
#include "common/error.h"

namespace neuroemu {
namespace {

using ::testing::HasSubstr;

Schema chip_schema() { return Schema({{"chip", "the chip"}}, chip_params()); }

std::string text_of(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

std::string error_of(const std::vector<std::string>& overrides) {
    try {
        chip_spec(chip_schema().parse("", "test", "", overrides));
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "no error";
}

TEST(ChipFields, DefaultSpecEqualsTheParsedDefaults) {
    const ChipSpec defaults;
    const ChipSpec parsed = chip_spec(chip_schema().load(""));
    for (const ChipField& f : chip_fields()) EXPECT_EQ(f.get(parsed), f.get(defaults)) << f.key;
}

TEST(ChipFields, EveryFieldIsOneConfigurationKeyWithItsDeclaration) {
    const std::vector<ParamSpec> params = chip_params();
    ASSERT_EQ(params.size(), chip_fields().size());
    for (size_t i = 0; i < params.size(); ++i) {
        const ChipField& f = chip_fields()[i];
        SCOPED_TRACE(f.key);
        EXPECT_EQ(params[i].key, "chip." + f.key);
        EXPECT_EQ(params[i].kind, f.kind);
        EXPECT_EQ(params[i].unit, f.unit);
        EXPECT_EQ(params[i].help, f.help);
        EXPECT_EQ(params[i].min, f.min);
        EXPECT_EQ(params[i].max, f.max);
        EXPECT_EQ(params[i].choices, f.words);
    }
}

TEST(ChipFields, KeysAreDistinctAndEveryFieldReachesItsOwnMember) {
    std::set<std::string> keys;
    for (const ChipField& f : chip_fields()) EXPECT_TRUE(keys.insert(f.key).second) << f.key << " twice";
    // Each field set to a value other than the default, one at a time: only that field changes.
    for (const ChipField& f : chip_fields()) {
        SCOPED_TRACE(f.key);
        ChipSpec c;
        ChipValue v = f.get(c);
        switch (f.kind) {
            case ParamKind::Bool: v = !std::get<bool>(v); break;
            case ParamKind::Int:
                v = std::get<int64_t>(v) == static_cast<int64_t>(f.max) ? int64_t{1} : int64_t(f.max);
                break;
            case ParamKind::Real: v = std::get<double>(v) * 2; break;
            case ParamKind::Enum: v = std::get<std::string>(v) == f.words[0] ? f.words[1] : f.words[0]; break;
            default: v = std::get<std::string>(v) + "x"; break;
        }
        f.set(c, v);
        for (const ChipField& g : chip_fields()) {
            if (&g == &f)
                EXPECT_EQ(g.get(c), v);
            else
                EXPECT_EQ(g.get(c), g.get(ChipSpec{})) << g.key << " changed too";
        }
    }
}

TEST(ChipFields, DocumentedInConfigReference) {
    const std::string doc = text_of(std::string(NEUROEMU_SOURCE_DIR) + "/docs/config.md");
    ASSERT_FALSE(doc.empty());
    for (const ChipField& f : chip_fields())
        EXPECT_THAT(doc, HasSubstr(fmt::format("| `chip.{}` | ", f.key))) << "regenerate docs/config.md";
}

TEST(ChipFields, EnumWordsAreTheOnesEveryoneSpells) {
    for (const ChipField& f : chip_fields()) {
        if (f.kind != ParamKind::Enum) continue;
        ASSERT_GE(f.words.size(), 2u) << f.key;
        for (const auto& w : f.words) EXPECT_THAT(f.help, HasSubstr("`" + w + "`")) << f.key;
    }
    EXPECT_STREQ(to_string(BiasStorage::Register), "register");
    EXPECT_EQ(enum_of("synapse", kBiasStorageWords), BiasStorage::Synapse);
    EXPECT_EQ(enum_of("flood", kBiasStorageWords), std::nullopt);
    // A word from the configuration lands on the enum value of the same spelling.
    const ChipSpec c =
        chip_spec(chip_schema().parse("", "t", "", {"chip.core.bias=register", "chip.noc.multicast=source"}));
    EXPECT_EQ(c.core.bias, BiasStorage::Register);
    EXPECT_EQ(c.noc.multicast, "source");
}

// Every bound is enforced where the configuration is read and by check_chip_value (the `.map` file's check).
TEST(ChipFields, RangesRejectJustOutside) {
    for (const ChipField& f : chip_fields()) {
        SCOPED_TRACE(f.key);
        if (f.kind == ParamKind::Int) {
            const auto lo = static_cast<int64_t>(f.min), hi = static_cast<int64_t>(f.max);
            EXPECT_EQ(check_chip_value(f, lo), "");
            EXPECT_EQ(check_chip_value(f, hi), "");
            EXPECT_NE(check_chip_value(f, lo - 1), "");
            EXPECT_NE(check_chip_value(f, hi + 1), "");
            EXPECT_THAT(error_of({fmt::format("{}={}", f.config_key(), lo - 1)}), HasSubstr(f.config_key()));
        } else if (f.kind == ParamKind::Real) {
            EXPECT_EQ(check_chip_value(f, f.min), "");
            EXPECT_NE(check_chip_value(f, std::nextafter(f.min, 0.0)), "");
            EXPECT_NE(check_chip_value(f, f.max * 2), "");
            EXPECT_NE(check_chip_value(f, std::numeric_limits<double>::quiet_NaN()), "");
        } else if (f.kind == ParamKind::Enum) {
            EXPECT_EQ(check_chip_value(f, f.words.back()), "");
            EXPECT_EQ(check_chip_value(f, std::string("nonsense")), fmt::format("one of {}", fmt::join(f.words, ", ")));
        }
        // A value of another type is refused whatever the kind.
        EXPECT_NE(check_chip_value(f, f.kind == ParamKind::Bool ? ChipValue(int64_t{1}) : ChipValue(true)), "");
    }
}

TEST(ChipFields, DefaultsAreWrittenAsConfigurationText) {
    EXPECT_EQ(chip_value_text(1e8), "1e8");
    EXPECT_EQ(chip_value_text(0.25), "0.25");
    EXPECT_EQ(chip_value_text(1.25e8), "1.25e8");
    EXPECT_EQ(chip_value_text(123456789.0), "123456789");
    EXPECT_EQ(chip_value_text(int64_t{-3}), "-3");
    EXPECT_EQ(chip_value_text(false), "false");
}

TEST(ChipSpec, FlitsPerEventRoundUpTheAerAddress) {
    NocSpec noc;
    for (auto [bits, flits] :
         {std::pair<int64_t, int64_t>{32, 1}, {33, 1}, {31, 2}, {16, 2}, {8, 4}, {5, 7}, {1, 32}, {4096, 1}}) {
        noc.flit_bits = bits;
        EXPECT_EQ(noc.flits_per_event(), flits) << bits << " bits";
    }
}

TEST(ChipSpec, ChecksAcrossFieldsKeepTheirMessages) {
    EXPECT_THAT(error_of({"chip.noc.width=4"}),
                HasSubstr("chip.noc.width and chip.noc.height must both be 0 (sized to fit) or both be set"));
    EXPECT_THAT(error_of({"chip.noc.flit_bits=8", "chip.noc.buffer_depth=2"}),
                HasSubstr("chip.noc.buffer_depth 2 cannot hold one 4-flit AER packet (32 bits at chip.noc.flit_bits "
                          "8); buffers must hold a whole packet"));
    EXPECT_THAT(
        error_of({"chip.noc.flit_bits=8", "chip.core.input_queue=3"}),
        HasSubstr("chip.core.input_queue 3 cannot hold one 4-flit AER packet (32 bits at chip.noc.flit_bits 8)"));
    EXPECT_THAT(error_of({"chip.noc.chips=2"}),
                HasSubstr("chip.noc.chips other than 1 needs a fixed chip.noc.width and chip.noc.height"));
    EXPECT_EQ(error_of({"chip.noc.flit_bits=8", "chip.noc.buffer_depth=4", "chip.core.input_queue=4"}), "no error");
}

}  // namespace
}  // namespace neuroemu
