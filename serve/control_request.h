// The control channel's requests (docs/serve.md, "Requests"), parsed and checked without a server: one JSON line
// becomes a typed Request, or a RequestError with the code and message the server answers with. The server
// (serve/control.cpp) and the fuzz target fuzz/control_fuzz.cpp call these same functions. What needs the
// server's state (a population's name, a subscription's id, a file inside the model directory, the token) is
// checked by the server afterwards.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "serve/protocol.h"

namespace neuroemu::serve::control {

// A request answered with an error: {"code": code, "message": message}.
struct RequestError {
    std::string code, message;
};

// What a request is checked against: the server's limits and the loaded model's input.
struct RequestContext {
    int64_t max_json_depth = 64;
    int64_t max_classify_ticks = 65535;
    int64_t max_tick_spikes = 1'000'000;
    bool allow_remote = false;  // `subscribe` to a non-loopback host
    protocol::InputShape shape;  // `classify`'s events and label
};

// A request line as far as every request goes: a JSON object (nesting at most max_json_depth) with a string "op";
// "id" (any JSON, null when absent) and "token" (when a string) as given.
struct Envelope {
    nlohmann::json request;
    nlohmann::json id;
    std::string op;
};

struct Hello {};  // also `auth`
struct Status {};
struct Pause {
    bool pause = true;  // false: `resume`
};
struct Run {
    int64_t ticks = 0;  // in [1, 1e9]
};
struct Reset {};
struct Subscribe {
    uint16_t port = 0;
    std::optional<std::string> host;  // a loopback address unless allow_remote; absent: the requester's address
    bool spikes = true, ticks = true, classifications = true;
    std::optional<std::vector<std::string>> populations;  // absent: every published one
};
struct Unsubscribe {
    int64_t subscription = 0;
};
struct Classify {
    std::vector<std::vector<InputSpike>> events;  // one list per tick (ticks of them), flat indices inside shape
    std::optional<int32_t> label;                 // in [0, classes)
};
struct Load {
    std::string config;  // as given: the server checks it lies inside the model directory
};
struct Shutdown {};

using Body = std::variant<Hello, Status, Pause, Run, Reset, Subscribe, Unsubscribe, Classify, Load, Shutdown>;

// Parses the line. Throws RequestError (codes too_deep, invalid_json, invalid_request, missing_field, bad_field).
// `id` is set before "op" is checked, so that an error can still name the request's id.
void parse_envelope(const std::string& line, int64_t max_json_depth, Envelope& out);
// The typed body of an envelope's op. Throws RequestError (unknown_op, missing_field, bad_field, bad_address,
// remote_host_refused).
Body parse_body(const Envelope& envelope, const RequestContext& context);

}  // namespace neuroemu::serve::control
