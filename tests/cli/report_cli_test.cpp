// `neuroemu report` through the executable, against the commands it summarises: the functional engine's SOPs and
// accuracy (`evaluate`), the hardware model's flit-hops and latency (`simulate`), the ANN's MACs (`info`).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "tests/support/cli_run.h"

namespace neuroemu {
namespace {

using cli_test::read_json;
using cli_test::run;
using nlohmann::json;

const std::string kConfig = std::string(NEUROEMU_SOURCE_DIR) + "/configs/fmnist/resnet8.yaml";

std::string tmp(const std::string& name) { return cli_test::build_file("report_cli_test", name); }

const json* term(const json& terms, const std::string& key) {
    for (const auto& t : terms)
        if (t.at("key") == key) return &t;
    return nullptr;
}

void expect_sum_of_terms(const json& side) {
    double sum = 0;
    for (const auto& t : side.at("terms")) {
        EXPECT_DOUBLE_EQ(t.at("energy_j").get<double>(), t.at("count").get<double>() * t.at("coefficient_j").get<double>())
            << t.at("key");
        sum += t.at("energy_j").get<double>();
    }
    EXPECT_NEAR(side.at("total_j").get<double>(), sum, 1e-12 * sum);
}

TEST(ReportCli, AgreesWithEvaluateSimulateAndInfo) {
    const std::string common = kConfig + " --steps 16 --set mapping.traffic_images=20 -q";
    const std::string dir = tmp("r8");
    std::filesystem::remove_all(dir);
    auto r = run("report " + common + " --images 20 --hw-images 1 --set report.paper_table=false -o " + dir +
                 " --json " + tmp("r8.json"));
    ASSERT_EQ(r.status, 0) << r.output;
    ASSERT_EQ(run("evaluate " + common + " --images 20 --json " + tmp("r8_eval.json")).status, 0);
    ASSERT_EQ(run("simulate " + common + " --images 1 --json " + tmp("r8_sim.json")).status, 0);
    ASSERT_EQ(run("info " + kConfig + " -q --json " + tmp("r8_info.json")).status, 0);
    const json rep = read_json(tmp("r8.json")), ev = read_json(tmp("r8_eval.json")),
               sim = read_json(tmp("r8_sim.json")), info = read_json(tmp("r8_info.json"));
    EXPECT_EQ(read_json(dir + "/report.json"), rep);

    const json& h = rep.at("headline");
    EXPECT_TRUE(h.at("fits").get<bool>());
    EXPECT_DOUBLE_EQ(h.at("accuracy_snn").get<double>(), ev.at("snn").at("top1").get<double>());
    EXPECT_DOUBLE_EQ(h.at("accuracy_ann").get<double>(), ev.at("snn").at("ann_top1").get<double>());
    EXPECT_EQ(rep.at("accuracy").at("snn_curve"), ev.at("snn").at("accuracy_curve"));

    const json& snn = rep.at("energy").at("snn");
    expect_sum_of_terms(snn);
    expect_sum_of_terms(rep.at("energy").at("ann"));
    EXPECT_DOUBLE_EQ(h.at("energy_snn_j").get<double>(), snn.at("total_j").get<double>());
    EXPECT_DOUBLE_EQ(h.at("ratio_ann_to_snn").get<double>(),
                     h.at("energy_ann_j").get<double>() / h.at("energy_snn_j").get<double>());
    // Algorithmic SOPs from the functional engine; flit-hops, cores and latency from the hardware model.
    ASSERT_NE(term(snn.at("terms"), "sop"), nullptr);
    EXPECT_DOUBLE_EQ(term(snn.at("terms"), "sop")->at("count").get<double>(),
                     ev.at("snn").at("totals").at("sops_per_image").get<double>());
    EXPECT_DOUBLE_EQ(h.at("energy_snn_sop_j").get<double>(),
                     ev.at("snn").at("totals").at("sops_per_image").get<double>() * 77e-15);
    ASSERT_NE(term(snn.at("terms"), "hop"), nullptr);
    EXPECT_DOUBLE_EQ(term(snn.at("terms"), "hop")->at("count").get<double>(),
                     sim.at("counters").at("flit_hops").get<double>());
    EXPECT_THAT(term(snn.at("terms"), "hop")->at("source").get<std::string>(), testing::HasSubstr("hardware model"));
    ASSERT_NE(term(snn.at("terms"), "buffer"), nullptr);
    EXPECT_DOUBLE_EQ(term(snn.at("terms"), "buffer")->at("count").get<double>(),
                     sim.at("counters").at("buffer_writes_flits").get<double>());
    EXPECT_EQ(h.at("cores"), sim.at("chip").at("cores"));
    EXPECT_DOUBLE_EQ(h.at("latency_s").get<double>(), sim.at("latency_s_per_image").get<double>());
    ASSERT_NE(term(snn.at("terms"), "static"), nullptr);
    EXPECT_DOUBLE_EQ(term(snn.at("terms"), "static")->at("count").get<double>(),
                     h.at("latency_s").get<double>() * h.at("cores").get<double>());
    EXPECT_EQ(rep.at("ticks").at("cycles_per_tick"), sim.at("cycles").at("per_tick"));
    // The ANN: its MACs, one FLOP each by default.
    EXPECT_DOUBLE_EQ(rep.at("energy").at("ann").at("macs").get<double>(),
                     info.at("model").at("totals").at("macs").get<double>());
    EXPECT_DOUBLE_EQ(h.at("energy_ann_j").get<double>(), info.at("model").at("totals").at("macs").get<double>() * 12.5e-12);
    // The mesh matrices: one value per core, every core's position once.
    const json& mesh = rep.at("mesh");
    int64_t cores = 0;
    for (const auto& row : mesh.at("core_utilisation")) {
        EXPECT_EQ(row.size(), mesh.at("width").get<size_t>());
        for (const auto& v : row)
            if (!v.is_null()) {
                ++cores;
                EXPECT_GT(v.get<double>(), 0.0);
                EXPECT_LE(v.get<double>(), 1.0);
            }
    }
    EXPECT_EQ(cores, h.at("cores").get<int64_t>());
    EXPECT_EQ(mesh.at("core_utilisation").size(), mesh.at("height").get<size_t>());
    // Per-router flits per image: the hardware model's counters (one image simulated).
    double report_flits = 0, sim_flits = 0;
    for (const auto& row : mesh.at("router_flits"))
        for (const auto& v : row) report_flits += v.get<double>();
    for (const auto& v : sim.at("per_router_flits")) sim_flits += v.get<double>();
    EXPECT_GT(sim_flits, 0.0);
    EXPECT_DOUBLE_EQ(report_flits, sim_flits);
    for (const char* f : {"report.html", "report.md", "accuracy.csv", "energy.csv", "layers.csv", "mesh.csv"})
        EXPECT_TRUE(std::filesystem::exists(dir + "/" + f)) << f;
}

TEST(ReportCli, DoesNotFitIsAResultAndBadArgumentsAreErrors) {
    auto r = run("report " + kConfig + " --images 4 --steps 4 -q --set report.paper_table=false --set chip.noc.width=2 "
                 "--set chip.noc.height=2 --json " + tmp("nofit.json"));
    ASSERT_EQ(r.status, 0) << r.output;
    const json rep = read_json(tmp("nofit.json"));
    EXPECT_FALSE(rep.at("headline").at("fits").get<bool>());
    EXPECT_THAT(rep.at("headline").at("fit_error").get<std::string>(), testing::HasSubstr("chip.noc.width"));
    EXPECT_TRUE(rep.at("headline").at("cores").is_null());
    EXPECT_TRUE(rep.at("mesh").is_null());

    r = run("report " + kConfig + " -q");
    EXPECT_EQ(r.status, 2);
    EXPECT_THAT(r.output, testing::HasSubstr("-o DIR"));
    r = run("report " + kConfig + " --hw-images -1 --json " + tmp("x.json"));
    EXPECT_NE(r.status, 0);
    EXPECT_THAT(r.output, testing::HasSubstr("--hw-images"));
    r = run("report " + kConfig + " --set chip.energy.sop_j=-1 --json " + tmp("x.json"));
    EXPECT_EQ(r.status, 2);
    EXPECT_THAT(r.output, testing::HasSubstr("chip.energy.sop_j"));
}

}  // namespace
}  // namespace neuroemu
