// A neuromorphic core of the chip model, behind its router's local port: it receives AER events, integrates them
// in its synapse engine, updates its neurons when its layer fires and sends the resulting events. The family
// `core_model` (common/registry.h): one file per implementation under hw/cores/, chosen by name
// (HwOptions::core_model); the chip builds one CoreModel per mapped core from it.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "common/registry.h"
#include "hw/vcd_trace.h"
#include "mapping/mapping.h"
#include "router/router.h"

namespace neuroemu {

class Chip;

class CoreModel : public CycleAgent {
public:
    CoreModel(Chip& chip, int32_t index, Router& router);
    ~CoreModel() override = default;

    // An event's tail has reached the core at cycle `at` (the router's local output).
    virtual void accept(const Packet& p, int64_t at) = 0;
    // The router's local input has `flits` more room from cycle `at`.
    virtual void credit(int flits, int64_t at) = 0;
    // The core's layer fires at cycle `now`: its neurons update, then the events the tick controller put into
    // outbox() are sent. Returns whether there is anything to send (the core then reports
    // TickController::layer_sent when its outbox is empty).
    virtual bool fire(int64_t now) = 0;
    // Events to send this tick, filled by the tick controller before fire().
    virtual std::deque<Packet>& outbox() = 0;
    // At a tick barrier (every event integrated, nothing left to send): back to the state of a fresh core, so that
    // the next tick does not depend on the ticks before it.
    virtual void reset_for_tick() = 0;

    const Core& core() const { return core_; }
    // Partial-sum cores: the pixels of the core's slice that received input this tick (cleared as they are sent).
    std::vector<uint8_t>& touched() { return touched_; }
    // Traced in the VCD file (nullptr: not traced).
    void trace_into(VcdTracer::CoreVars* vars) { traced_ = vars; }

protected:
    Chip& chip_;
    const int32_t index_;
    const Core& core_;
    Router& router_;
    std::vector<uint8_t> touched_;
    VcdTracer::CoreVars* traced_ = nullptr;
};

// What the family registers: a kind of core, which builds the core of each mapped core.
class CoreModelKind {
public:
    virtual ~CoreModelKind() = default;
    virtual std::unique_ptr<CoreModel> build(Chip& chip, int32_t index, Router& router) const = 0;
};

// The kind of a core class built from (chip, index, router), for models without parameters of their own.
template <typename CoreClass>
class CoreKindOf final : public CoreModelKind {
public:
    std::unique_ptr<CoreModel> build(Chip& chip, int32_t index, Router& router) const override {
        return std::make_unique<CoreClass>(chip, index, router);
    }
};

// No YAML key selects it yet: with one model a key would only add a line to every result's settings; it comes
// with the second model. "rolls" is the ROLLS-style core (hw/cores/rolls_core.cpp).
Family<CoreModelKind>& core_models();
inline const char* const kDefaultCoreModel = "rolls";

}  // namespace neuroemu
