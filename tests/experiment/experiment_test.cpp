// One experiment as a library call (experiment/): the report document and explore's point result agree with the
// run they come from, a network that does not fit is a result, and the hardware model supplies the latency and the
// counts it measures. SystemC allows one elaboration per process: each test below simulates the chip at most once.
#include "experiment/experiment.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cli/schema.h"
#include "common/error.h"
#include "experiment/point.h"
#include "experiment/report_document.h"
#include "report/document.h"

namespace neuroemu::experiment {
namespace {

const std::string kConfig = std::string(NEUROEMU_SOURCE_DIR) + "/configs/fmnist/resnet8.yaml";

// A small run of the shipped ResNet-8; `overrides` come last.
Settings small_run(int64_t hw_images, const std::vector<std::string>& overrides = {}) {
    std::vector<std::string> sets = {"dataset.images=6", "simulation.steps=6", "conversion.calibration_images=50",
                                     "simulation.threads=2", "report.paper_table=false",
                                     "report.hw_images=" + std::to_string(hw_images)};
    sets.insert(sets.end(), overrides.begin(), overrides.end());
    return neuroemu_schema().load(kConfig, sets);
}

TEST(Experiment, PointAndReportDocumentCarryTheRunsOwnFigures) {
    const Settings settings = small_run(0);
    const ExperimentResult result = run_experiment(settings, {"", 0});
    ASSERT_TRUE(result.mapping.has_value()) << result.fit_error;
    EXPECT_FALSE(result.hardware.has_value());
    EXPECT_THAT(result.counts.flit_hops_source, testing::HasSubstr("mapper estimate"));
    EXPECT_FALSE(result.counts.seconds.has_value());

    const nlohmann::json doc = report_document(result, settings, kConfig);
    EXPECT_NO_THROW(report::read_report(doc));
    const nlohmann::json& headline = doc.at("headline");
    EXPECT_EQ(headline.at("images"), 6);
    EXPECT_TRUE(headline.at("latency_s").is_null());
    EXPECT_DOUBLE_EQ(headline.at("energy_snn_j").get<double>(), result.energy_snn.total_j());

    const PointResult point = run_point(settings, "");
    EXPECT_EQ(point.status, PointStatus::Ok);
    EXPECT_DOUBLE_EQ(*point.accuracy, headline.at("accuracy_snn").get<double>());
    EXPECT_DOUBLE_EQ(*point.energy_j, headline.at("energy_snn_j").get<double>());
    EXPECT_DOUBLE_EQ(*point.energy_ann_j, headline.at("energy_ann_j").get<double>());
    EXPECT_EQ(*point.cores, headline.at("cores").get<int64_t>());
    EXPECT_FALSE(point.latency_s.has_value());
}

TEST(Experiment, HardwareModelSuppliesTheLatencyAndTheCountsItMeasures) {
    const Settings settings = small_run(1);
    const ExperimentResult result = run_experiment(settings, {"", 0});
    ASSERT_TRUE(result.hardware.has_value());
    EXPECT_EQ(result.hardware->images, 1);
    ASSERT_TRUE(result.counts.seconds.has_value());
    EXPECT_DOUBLE_EQ(*result.counts.seconds, static_cast<double>(result.hardware->cycles) / result.chip.clock_hz);
    EXPECT_EQ(result.counts.flit_hops_source, "hardware model (1 image)");
    ASSERT_NE(result.energy_snn.find("static"), nullptr);

    const nlohmann::json doc = report_document(result, settings, kConfig);
    EXPECT_NO_THROW(report::read_report(doc));
    EXPECT_FALSE(doc.at("ticks").is_null());
    EXPECT_EQ(doc.at("mesh").at("link_flits_source"), "hardware model");
    EXPECT_DOUBLE_EQ(doc.at("headline").at("latency_s").get<double>(), *result.counts.seconds);
}

const nlohmann::json* term(const nlohmann::json& terms, const std::string& key) {
    for (const auto& t : terms)
        if (t.at("key") == key) return &t;
    return nullptr;
}

// Without the hardware model: no duration (so no static term), hops from the mapper's estimate; and the paper's
// §4.4 table from its SOP counts: S-ResNet-34 5.03 mJ, S-ResNet-50 6.03 mJ (within 0.1 %).
TEST(Experiment, WithoutHardwareTheMapperEstimatesHopsAndThePaperTableHoldsItsFigures) {
    const Settings settings = small_run(0, {"report.paper_table=true"});
    const nlohmann::json doc = report_document(run_experiment(settings, {"", 0}), settings, kConfig);
    EXPECT_TRUE(doc.at("headline").at("latency_s").is_null());
    EXPECT_TRUE(doc.at("ticks").is_null());
    const nlohmann::json& terms = doc.at("energy").at("snn").at("terms");
    EXPECT_EQ(term(terms, "static"), nullptr);
    ASSERT_NE(term(terms, "hop"), nullptr);
    EXPECT_THAT(term(terms, "hop")->at("source").get<std::string>(), testing::HasSubstr("mapper estimate"));
    double sum = 0;
    for (const auto& t : terms) sum += t.at("energy_j").get<double>();
    EXPECT_NEAR(doc.at("energy").at("snn").at("total_j").get<double>(), sum, 1e-12 * sum);
    const nlohmann::json& paper = doc.at("paper_energy");
    ASSERT_EQ(paper.size(), 3u);
    EXPECT_EQ(paper[1].at("network"), "ResNet-34");
    EXPECT_NEAR(paper[1].at("energy_snn_j").get<double>() / 5.03e-3, 1.0, 1e-3);
    EXPECT_NEAR(paper[2].at("energy_snn_j").get<double>() / 6.03e-3, 1.0, 1e-3);
    EXPECT_NEAR(paper[1].at("gmac").get<double>(), 3.66, 0.01);
    EXPECT_NEAR(paper[2].at("gmac").get<double>(), 4.09, 0.01);
    for (const auto& row : paper) EXPECT_EQ(row.at("more_than_9x").get<bool>(), row.at("ratio").get<double>() > 9.0);
}

TEST(Point, ANetworkThatDoesNotFitIsAResultNamingTheCause) {
    const PointResult point = run_point(small_run(1, {"chip.noc.width=2", "chip.noc.height=2"}), "");
    EXPECT_EQ(point.status, PointStatus::DoesNotFit);
    EXPECT_THAT(point.reason, testing::HasSubstr("chip.noc.width"));
    EXPECT_FALSE(point.cores.has_value());
    EXPECT_FALSE(point.latency_s.has_value());
    EXPECT_TRUE(point.accuracy.has_value());  // the functional engine ran
}

TEST(Point, JsonRoundTripsAndABadDocumentNamesItsSource) {
    PointResult point;
    point.status = PointStatus::Ok;
    point.accuracy = 0.875;
    point.energy_j = 1.25e-6;
    point.energy_ann_j = 3e-4;
    point.cores = 42;
    const PointResult back = point_result_from_json(point_result_json(point), "p.json");
    EXPECT_EQ(back.status, PointStatus::Ok);
    EXPECT_EQ(*back.accuracy, 0.875);
    EXPECT_EQ(*back.energy_j, 1.25e-6);
    EXPECT_EQ(*back.energy_ann_j, 3e-4);
    EXPECT_EQ(*back.cores, 42);
    EXPECT_FALSE(back.latency_s.has_value());

    const auto error_of = [](const nlohmann::json& doc) {
        try {
            point_result_from_json(doc, "p.json");
        } catch (const DataError& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    EXPECT_THAT(error_of({{"headline", {}}}), testing::HasSubstr("p.json: not a point result"));
    EXPECT_THAT(error_of({{"status", "fine"}}), testing::HasSubstr("p.json: status: expected ok, does-not-fit or failed"));
    nlohmann::json bad = point_result_json(point);
    bad["energy_j"] = "a lot";
    EXPECT_THAT(error_of(bad), testing::HasSubstr("p.json: energy_j: expected a number or null"));
}

}  // namespace
}  // namespace neuroemu::experiment
