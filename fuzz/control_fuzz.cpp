// The server's control requests (serve/control_request.h): one line through parse_envelope and parse_body, as the
// server parses it (an input shape of [3, 32, 32] with 10 classes, the default limits but classify's ticks and
// spikes lowered to keep one input small). A RequestError is the documented answer and swallowed; anything else
// escapes. What is accepted is checked against the request: classify's events inside the shape, one list per tick.
#include <cstdlib>
#include <string>

#include "fuzz/fuzz_target.h"
#include "serve/control_request.h"

int neuroemu::fuzz::control(const uint8_t* data, size_t size) {
    namespace c = neuroemu::serve::control;
    c::RequestContext context;
    context.shape.channels = 3, context.shape.height = 32, context.shape.width = 32, context.shape.classes = 10;
    context.max_classify_ticks = 256;
    context.max_tick_spikes = 4096;
    const std::string line(reinterpret_cast<const char*>(data), size);
    try {
        c::Envelope envelope;
        c::parse_envelope(line, context.max_json_depth, envelope);
        const c::Body body = c::parse_body(envelope, context);
        if (const auto* classify = std::get_if<c::Classify>(&body)) {
            if (classify->events.size() > static_cast<size_t>(context.max_classify_ticks)) std::abort();
            for (const auto& tick : classify->events)
                for (const neuroemu::serve::InputSpike& s : tick)
                    if (s.index < 0 || s.index >= context.shape.size() || s.count != 1) std::abort();
            if (classify->label && (*classify->label < 0 || *classify->label >= context.shape.classes)) std::abort();
        }
    } catch (const c::RequestError&) {
    }
    return 0;
}
NEUROEMU_FUZZ_TARGET(control)
