#include "common/registry.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace neuroemu {
namespace {

using ::testing::HasSubstr;

class Shape {
public:
    virtual ~Shape() = default;
    virtual double area_m2() const = 0;
};

class Square final : public Shape {
public:
    explicit Square(double side_m) : side_m_(side_m) {}
    double area_m2() const override { return side_m_ * side_m_; }

private:
    double side_m_;
};

Family<Shape> shapes() {
    Family<Shape> f("shape", "geometry.shape", "The shape whose area is reported.");
    f.add({"square", "all sides equal.",
           {ParamSpec("geometry.side_m", ParamKind::Real, "2", "m", "Side length.").range(0, 10)}},
          [](const Settings& s) { return std::make_unique<Square>(s.get_real("geometry.side_m")); });
    f.add({"circle", "round.", {}}, [](const Settings&) { return std::make_unique<Square>(1.0); });
    return f;
}

TEST(Registry, MakeWithoutSettingsUsesTheImplementationsOwnDefaults) {
    EXPECT_DOUBLE_EQ(shapes().make("square")->area_m2(), 4.0);
}

TEST(Registry, SelectorAndParamsPutTheFamilyIntoASchema) {
    const Family<Shape> f = shapes();
    const ParamSpec key = f.selector("square");
    EXPECT_EQ(key.key, "geometry.shape");
    EXPECT_EQ(key.kind, ParamKind::Enum);
    EXPECT_EQ(key.choices, (std::vector<std::string>{"square", "circle"}));
    EXPECT_THAT(key.help, HasSubstr("`circle`: round."));
    std::vector<ParamSpec> params = {key};
    for (const auto& p : f.params()) params.push_back(p);
    const Schema schema({{"geometry", "g"}}, params);
    const Settings s = schema.parse("geometry:\n  shape: square\n  side_m: 3\n", "x.yaml", "");
    EXPECT_DOUBLE_EQ(f.make(s.get_string("geometry.shape"), s)->area_m2(), 9.0);
    EXPECT_NE(schema.markdown().find("square, circle"), std::string::npos);
}

TEST(Registry, UnknownNameIsAConfigErrorListingNamesWithASuggestion) {
    try {
        shapes().make("sqare");
        FAIL() << "no ConfigError";
    } catch (const ConfigError& e) {
        EXPECT_STREQ(e.what(), "unknown shape 'sqare' (did you mean 'square'?); registered: square, circle");
    }
    EXPECT_THROW(shapes().make("triangle"), ConfigError);
    EXPECT_EQ(shapes().unknown("triangle"), "unknown shape 'triangle'; registered: square, circle");
}

TEST(Registry, AnUnknownWordForTheSelectingKeySuggestsTheClosest) {
    const Family<Shape> f = shapes();
    const Schema schema({{"geometry", "g"}}, {f.selector("square")});
    try {
        schema.parse("", "", "", {"geometry.shape=circel"});
        FAIL() << "no ConfigError";
    } catch (const ConfigError& e) {
        EXPECT_THAT(e.what(), HasSubstr("expected one of square, circle, got 'circel' (did you mean 'circle'?)"));
    }
}

TEST(Registry, RegisteringANameTwiceIsAnInternalError) {
    Family<Shape> f = shapes();
    EXPECT_THROW(f.add({"square", "again", {}}, [](const Settings&) { return std::make_unique<Square>(1.0); }),
                 InternalError);
    EXPECT_THROW(f.selector("hexagon"), InternalError);
}

TEST(Registry, AKeySharedByTwoImplementationsIsListedOnceUnlessDeclaredDifferently) {
    Family<Shape> f = shapes();
    const ParamSpec side = ParamSpec("geometry.side_m", ParamKind::Real, "2", "m", "Side length.").range(0, 10);
    f.add({"rhombus", "all sides equal, any angle.", {side}}, [](const Settings&) { return std::make_unique<Square>(1.0); });
    EXPECT_EQ(f.params().size(), 1u);
    f.add({"kite", "two pairs.", {ParamSpec("geometry.side_m", ParamKind::Real, "3", "m", "Side length.")}},
          [](const Settings&) { return std::make_unique<Square>(1.0); });
    EXPECT_THROW(f.params(), InternalError);
}

TEST(Registry, RegistrarAddsAtConstruction) {
    Family<Shape> f("shape", "", "d");
    const Registrar<Shape> r(f, {"unit", "one square metre.", {}},
                             [](const Settings&) { return std::make_unique<Square>(1.0); });
    EXPECT_EQ(f.names(), std::vector<std::string>{"unit"});
    EXPECT_DOUBLE_EQ(f.make("unit")->area_m2(), 1.0);
}

}  // namespace
}  // namespace neuroemu
