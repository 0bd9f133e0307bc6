#include "hw/host.h"

#include "hw/chip.h"

namespace neuroemu {

Host::Host(Chip& chip, Router& router)
    : chip_(chip), router_(router), encoder_(static_cast<int32_t>(chip.mapping.chip.noc.buffer_depth)) {}

void Host::credit(int flits, int64_t at) {
    encoder_.credit(flits, at);
    if (!encoder_.idle()) chip_.wake(*this, at);
}

bool Host::start_sending(int64_t at) {
    if (encoder_.idle()) return false;
    encoder_.start_at(at);
    chip_.wake(*this, at);
    return true;
}

void Host::run_cycle(int64_t now) {
    const int64_t credit_at = encoder_.apply_credits(now);
    if (encoder_.can_send(now)) {
        const Packet p = encoder_.send(now);
        chip_.injected(chip_.host_source(), p);
        router_.accept(kInHost, p, now);
        if (encoder_.idle()) chip_.tick_controller->host_sent();
    }
    const int64_t next = encoder_.next_send_cycle(now, credit_at);
    if (next != kNeverCycle) chip_.wake(*this, next);
}

}  // namespace neuroemu
