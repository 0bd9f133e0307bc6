// The server's datagrams (serve/protocol.h): EVENTS as the server decodes them, SPIKES/TICK/CLASSIFICATION as a
// subscriber does. The decoders report a reason and never throw, so nothing is swallowed here.
#include "fuzz/fuzz_target.h"
#include "serve/protocol.h"

int neuroemu::fuzz::datagram(const uint8_t* data, size_t size) {
    namespace p = neuroemu::serve::protocol;
    p::InputShape shape;
    shape.channels = 3, shape.height = 32, shape.width = 32, shape.classes = 10;
    p::decode_events(data, size, shape);
    p::decode_output(data, size);
    return 0;
}
NEUROEMU_FUZZ_TARGET(datagram)
