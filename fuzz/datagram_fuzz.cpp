// The server's datagrams (serve/protocol.h): EVENTS as the server decodes them, SPIKES/TICK/CLASSIFICATION as a
// subscriber does. The decoders report a reason and never throw, so nothing is swallowed here. What a decoder
// accepts must round-trip: encoded again with the same layout and decoded, it gives the same values (else abort);
// TICK's aux is not compared (the encoder writes its own, the subscriber's decoder ignores it).
#include <cstdlib>
#include <cstring>

#include "fuzz/fuzz_target.h"
#include "serve/protocol.h"

namespace {

namespace p = neuroemu::serve::protocol;

void events_round_trip(const uint8_t* data, size_t size, const p::InputShape& shape) {
    const p::Decoded<p::Events> a = p::decode_events(data, size, shape);
    if (!a.ok()) return;
    const uint16_t layout = p::read_header(data).flags;  // FLAT and COUNTS as sent
    const std::vector<uint8_t> bytes = p::encode_events(a.value, layout, shape);
    const p::Decoded<p::Events> b = p::decode_events(bytes.data(), bytes.size(), shape);
    if (!b.ok() || b.value.sequence != a.value.sequence || b.value.tick != a.value.tick ||
        b.value.flags != a.value.flags || b.value.label != a.value.label ||
        b.value.events.size() != a.value.events.size())
        std::abort();
    for (size_t i = 0; i < a.value.events.size(); ++i)
        if (b.value.events[i].index != a.value.events[i].index || b.value.events[i].count != a.value.events[i].count)
            std::abort();
}

void output_round_trip(const uint8_t* data, size_t size) {
    const p::Decoded<p::Output> a = p::decode_output(data, size);
    if (!a.ok()) return;
    const p::Output& o = a.value;
    std::vector<uint8_t> bytes;
    if (o.type() == p::Type::tick) {
        bytes = p::encode_tick(o.header.sequence, o.header.tick, o.fields);
    } else if (o.type() == p::Type::classification) {
        bytes = p::encode_classification(o.header.sequence, o.header.tick, o.header.aux, o.label, o.steps, o.readout);
    } else {
        return;  // SPIKES: units are u32 on the wire, int32 in encode_spikes, which also splits (MORE)
    }
    const p::Decoded<p::Output> b = p::decode_output(bytes.data(), bytes.size());
    const p::Output& r = b.value;
    if (!b.ok() || r.header.type != o.header.type || r.header.sequence != o.header.sequence ||
        r.header.tick != o.header.tick || r.fields != o.fields || r.label != o.label ||
        r.steps != o.steps || (o.type() == p::Type::classification && r.header.aux != o.header.aux) ||
        r.readout.size() != o.readout.size() ||
        (!o.readout.empty() && std::memcmp(r.readout.data(), o.readout.data(), o.readout.size() * sizeof(float)) != 0))
        std::abort();
}

}  // namespace

int neuroemu::fuzz::datagram(const uint8_t* data, size_t size) {
    p::InputShape shape;
    shape.channels = 3, shape.height = 32, shape.width = 32, shape.classes = 10;
    events_round_trip(data, size, shape);
    output_round_trip(data, size);
    return 0;
}
NEUROEMU_FUZZ_TARGET(datagram)
