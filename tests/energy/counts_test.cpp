// Where each energy count comes from: the functional engine, the mapper's estimate when the chip was not simulated,
// the hardware model when it was (energy/counts.h).
#include "energy/counts.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/error.h"
#include "model/neuron_state.h"

namespace neuroemu {
namespace {

FunctionalTotals functional() {
    FunctionalTotals f;
    f.images = 4;
    f.steps = 10;
    f.sops = 4000;
    f.input_macs = 400;
    f.spikes = 80;
    f.if_neurons = 50;
    return f;
}

HardwareTotals hardware() {
    HardwareTotals h;
    h.images = 2;
    h.partial_sum_sops = 60;
    h.events_generated = 30;
    h.neuron_updates = 2000;
    h.flit_hops = 500;
    h.buffer_writes_flits = 700;
    h.cycles = 4000;
    h.clock_hz = 1e6;
    return h;
}

TEST(EnergyCounts, FunctionalEngineAloneHasNoHopsNoDurationAndNoCores) {
    const EnergyCounts c = energy_counts(functional(), std::nullopt, std::nullopt);
    EXPECT_DOUBLE_EQ(c.sops, 1000);
    EXPECT_DOUBLE_EQ(c.input_sops, 100);
    EXPECT_DOUBLE_EQ(c.spikes, 20);
    EXPECT_DOUBLE_EQ(c.neuron_updates, 500);  // IF neurons x steps
    EXPECT_FALSE(c.flit_hops.has_value());
    EXPECT_FALSE(c.seconds.has_value());
    EXPECT_EQ(c.cores, 0);
    EXPECT_THAT(c.spikes_source, testing::HasSubstr("functional engine"));
}

TEST(EnergyCounts, MapperEstimatePricesHopsOverEveryStep) {
    const EnergyCounts c = energy_counts(functional(), MapperTraffic{7, 3.5, 2}, std::nullopt);
    EXPECT_EQ(c.cores, 7);
    ASSERT_TRUE(c.flit_hops.has_value());
    EXPECT_DOUBLE_EQ(*c.flit_hops, 3.5 * 10 * 2);
    EXPECT_THAT(c.flit_hops_source, testing::HasSubstr("mapper estimate"));
    EXPECT_FALSE(c.buffer_writes.has_value());
    EXPECT_FALSE(c.seconds.has_value());
}

TEST(EnergyCounts, HardwareModelReplacesSpikesUpdatesAndHopsPerItsOwnImages) {
    const EnergyCounts c = energy_counts(functional(), MapperTraffic{7, 3.5, 2}, hardware());
    EXPECT_DOUBLE_EQ(c.sops, 1000);  // algorithmic SOPs stay the functional engine's
    EXPECT_DOUBLE_EQ(c.extra_sops, 30);
    EXPECT_DOUBLE_EQ(c.spikes, 15);
    EXPECT_DOUBLE_EQ(c.neuron_updates, 1000);
    EXPECT_DOUBLE_EQ(*c.flit_hops, 250);
    EXPECT_DOUBLE_EQ(*c.buffer_writes, 350);
    EXPECT_DOUBLE_EQ(*c.seconds, 2000 / 1e6);
    EXPECT_EQ(c.flit_hops_source, "hardware model (2 images)");
    EXPECT_THAT(c.spikes_source, testing::HasSubstr("hardware model"));
    EXPECT_THAT(c.neuron_updates_source, testing::HasSubstr("hardware model"));
}

// Neuron updates count state variables: a cuba_lif neuron updates its synaptic current and its membrane.
TEST(EnergyCounts, NeuronUpdatesCountStateVariables) {
    EXPECT_EQ(state_updates("if"), 1);
    EXPECT_EQ(state_updates("lif"), 1);
    EXPECT_EQ(state_updates("li"), 1);
    EXPECT_EQ(state_updates("threshold"), 1);
    EXPECT_EQ(state_updates("cuba_lif"), 2);
    EXPECT_EQ(state_updates("cuba_li"), 2);
    EXPECT_THAT([] { state_updates("izhikevich"); },
                testing::ThrowsMessage<ModelError>(testing::HasSubstr("'izhikevich'")));
    // 30 cuba_lif neurons and 20 if neurons over 10 steps: (2 x 30 + 20) x 10 per image.
    FunctionalTotals f = functional();
    f.neuron_states = 2 * 30 + 20;
    const EnergyCounts c = energy_counts(f, std::nullopt, std::nullopt);
    EXPECT_DOUBLE_EQ(c.neuron_updates, 800);
    EXPECT_THAT(c.neuron_updates_source, testing::HasSubstr("state variables"));
    SnnModel m;
    Population in, hidden, out;
    in.kind = PopulationKind::Input, in.shape = {4};
    hidden.shape = {3, 2, 5}, hidden.neuron.model = "cuba_lif";
    out.shape = {20};
    m.populations = {in, hidden, out};
    EXPECT_EQ(neuron_updates_per_step(m), 2 * 30 + 20);
}

// The per-packet check's logic: computed once per packet injected, verified once per arrival at a core, each at
// (check bits x the coefficient per bit); no terms without a check.
TEST(EnergyCounts, TheCheckIsPricedPerPacketInjectedAndPerArrival) {
    HardwareTotals h = hardware();
    h.packets_injected = 40, h.arrivals = 130;
    EnergySpec spec;
    spec.check_compute_j_per_bit = 2e-13, spec.check_verify_j_per_bit = 3e-13;
    const EnergyBreakdown none = snn_energy(spec, energy_counts(functional(), std::nullopt, h));
    EXPECT_EQ(none.find("check_compute"), nullptr);
    EXPECT_EQ(none.find("check_verify"), nullptr);
    h.check_bits = 8, h.check_name = "crc8";
    const EnergyBreakdown crc8 = snn_energy(spec, energy_counts(functional(), std::nullopt, h));
    const EnergyTerm* compute = crc8.find("check_compute");
    const EnergyTerm* verify = crc8.find("check_verify");
    ASSERT_NE(compute, nullptr);
    ASSERT_NE(verify, nullptr);
    EXPECT_DOUBLE_EQ(compute->count, 20);  // per image: 2 images
    EXPECT_DOUBLE_EQ(verify->count, 65);
    EXPECT_DOUBLE_EQ(compute->energy_j, 20 * 8 * 2e-13);
    EXPECT_DOUBLE_EQ(verify->energy_j, 65 * 8 * 3e-13);
    EXPECT_NEAR(crc8.total_j() - none.total_j(), 20 * 8 * 2e-13 + 65 * 8 * 3e-13, 1e-20);
    EXPECT_EQ(compute->coefficient_key, "chip.energy.check_compute_j_per_bit");
    EXPECT_THAT(compute->label, testing::HasSubstr("crc8"));
}

}  // namespace
}  // namespace neuroemu
