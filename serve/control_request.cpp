// The control channel's request parser (serve/control_request.h): the field checks moved out of the server
// (serve/control.cpp) so that they can be tested and fuzzed without sockets.
#include "serve/control_request.h"

#include <utility>  // before Asio (Boost 1.74 headers use std::exchange without including it)

#include <boost/asio/ip/address.hpp>
#include <fmt/format.h>

namespace neuroemu::serve::control {

namespace {

using nlohmann::json;

struct TooDeep {};

json parse_json(const std::string& line, int64_t max_depth) {
    try {
        return json::parse(line, [max_depth](int depth, json::parse_event_t, json&) {
            if (depth > max_depth) throw TooDeep{};
            return true;
        });
    } catch (const TooDeep&) {
        throw RequestError{"too_deep", fmt::format("the request nests deeper than {} levels", max_depth)};
    } catch (const json::exception& e) {  // a parse_error, or out_of_range for a number beyond a double (1e400)
        throw RequestError{"invalid_json", std::string("the request is not valid JSON: ") + e.what()};
    }
}

int64_t int_field(const json& req, const std::string& name, int64_t lo, int64_t hi, std::optional<int64_t> dflt) {
    if (!req.contains(name)) {
        if (dflt) return *dflt;
        throw RequestError{"missing_field", fmt::format("{}: required, an integer in [{}, {}]", name, lo, hi)};
    }
    const json& v = req[name];
    // An unsigned value above INT64_MAX reads as negative through get<int64_t>(): out of range either way.
    const bool in_range = v.is_number_integer() && !(v.is_number_unsigned() && v.get<uint64_t>() > INT64_MAX) &&
                          v.get<int64_t>() >= lo && v.get<int64_t>() <= hi;
    if (!in_range)
        throw RequestError{"bad_field", fmt::format("{}: expected an integer in [{}, {}], got {}", name, lo, hi,
                                                    v.dump().substr(0, 64))};
    return v.get<int64_t>();
}

bool bool_field(const json& req, const std::string& name, bool dflt) {
    if (!req.contains(name)) return dflt;
    if (!req[name].is_boolean())
        throw RequestError{"bad_field", fmt::format("{}: expected true or false, got {}", name, req[name].dump().substr(0, 64))};
    return req[name].get<bool>();
}

std::string string_field(const json& req, const std::string& name) {
    if (!req.contains(name) || !req[name].is_string())
        throw RequestError{req.contains(name) ? "bad_field" : "missing_field", name + ": expected a string"};
    return req[name].get<std::string>();
}

// One of classify's events: a flat index, or [c, y, x], inside the input.
int32_t classify_event(const json& e, bool cyx, const protocol::InputShape& s, size_t t, size_t i) {
    auto bad = [&] {
        return RequestError{"bad_address", fmt::format("events[{}][{}]: expected {} inside the input [{}, {}, {}], got {}",
                                                       t, i, cyx ? "[c, y, x]" : "a flat index", s.channels, s.height,
                                                       s.width, e.dump().substr(0, 64))};
    };
    auto coordinate = [&](const json& v, int64_t size) {
        if (!v.is_number_integer() || (v.is_number_unsigned() && v.get<uint64_t>() > INT64_MAX)) throw bad();
        const auto k = v.get<int64_t>();
        if (k < 0 || k >= size) throw bad();
        return k;
    };
    if (!cyx) return static_cast<int32_t>(coordinate(e, s.size()));
    if (!e.is_array() || e.size() != 3) throw bad();
    const int64_t c = coordinate(e[0], s.channels), y = coordinate(e[1], s.height), x = coordinate(e[2], s.width);
    return static_cast<int32_t>((c * s.height + y) * s.width + x);
}

// Classify's events: `ticks` lists (fewer: the remaining ticks get no input) of flat indices, or of [c, y, x].
std::vector<std::vector<InputSpike>> classify_events(const json& req, int64_t ticks, const RequestContext& context) {
    const bool cyx = req.contains("format") && req["format"] == "cyx";
    if (req.contains("format") && !cyx && req["format"] != "flat")
        throw RequestError{"bad_field", "format: expected \"flat\" or \"cyx\""};
    if (!req.contains("events") || !req["events"].is_array() || static_cast<int64_t>(req["events"].size()) > ticks)
        throw RequestError{"bad_field", fmt::format("events: expected a list of at most {} lists (one per tick)", ticks)};
    std::vector<std::vector<InputSpike>> out(static_cast<size_t>(ticks));
    const json& events = req["events"];
    for (size_t t = 0; t < events.size(); ++t) {
        if (!events[t].is_array()) throw RequestError{"bad_field", fmt::format("events[{}]: expected a list", t)};
        if (static_cast<int64_t>(events[t].size()) > context.max_tick_spikes)
            throw RequestError{"bad_field",
                               fmt::format("events[{}]: at most {} spikes in one tick", t, context.max_tick_spikes)};
        for (size_t i = 0; i < events[t].size(); ++i)
            out[t].push_back({classify_event(events[t][i], cyx, context.shape, t, i), 1});
    }
    return out;
}

Classify classify(const json& req, const RequestContext& context) {
    Classify c;
    const int64_t ticks = int_field(req, "ticks", 1, context.max_classify_ticks, std::nullopt);
    c.events = classify_events(req, ticks, context);
    if (req.contains("label"))
        c.label = static_cast<int32_t>(int_field(req, "label", 0, context.shape.classes - 1, std::nullopt));
    return c;
}

Subscribe subscribe(const json& req, const RequestContext& context) {
    Subscribe s;
    s.port = static_cast<uint16_t>(int_field(req, "port", 1, 65535, std::nullopt));
    if (req.contains("host")) {
        boost::system::error_code ec;
        const auto host = boost::asio::ip::make_address(string_field(req, "host"), ec);
        if (ec) throw RequestError{"bad_field", "host: expected an IP address, got " + req["host"].dump()};
        if (!host.is_loopback() && !context.allow_remote)
            throw RequestError{"remote_host_refused",
                               "host: only loopback subscribers without --allow-remote, got " + req["host"].dump()};
        s.host = host.to_string();
    }
    s.spikes = bool_field(req, "spikes", true);
    s.ticks = bool_field(req, "ticks", true);
    s.classifications = bool_field(req, "classifications", true);
    if (req.contains("populations")) {
        const json& names = req["populations"];
        if (!names.is_array()) throw RequestError{"bad_field", "populations: expected a list of names"};
        s.populations.emplace();
        for (size_t i = 0; i < names.size(); ++i) {
            if (!names[i].is_string())
                throw RequestError{"bad_field", fmt::format("populations[{}]: expected a name, got {}", i,
                                                            names[i].dump().substr(0, 64))};
            s.populations->push_back(names[i].get<std::string>());
        }
    }
    return s;
}

}  // namespace

void parse_envelope(const std::string& line, int64_t max_json_depth, Envelope& out) {
    out.request = parse_json(line, max_json_depth);
    if (!out.request.is_object())
        throw RequestError{"invalid_request", "a request is a JSON object: {\"id\": ..., \"op\": ...}"};
    if (out.request.contains("id")) out.id = out.request["id"];
    out.op = string_field(out.request, "op");
}

Body parse_body(const Envelope& envelope, const RequestContext& context) {
    const std::string& op = envelope.op;
    const json& req = envelope.request;
    if (op == "hello" || op == "auth") return Hello{};
    if (op == "status") return Status{};
    if (op == "pause" || op == "resume") return Pause{op == "pause"};
    if (op == "run") return Run{int_field(req, "ticks", 1, 1'000'000'000, std::nullopt)};
    if (op == "reset") return Reset{};
    if (op == "subscribe") return subscribe(req, context);
    if (op == "unsubscribe") return Unsubscribe{int_field(req, "subscription", 1, INT64_MAX, std::nullopt)};
    if (op == "classify") return classify(req, context);
    if (op == "load") return Load{string_field(req, "config")};
    if (op == "shutdown") return Shutdown{};
    throw RequestError{"unknown_op", "op: '" + op.substr(0, 64) +
                                         "' is not one of hello, status, load, reset, run, pause, resume, "
                                         "subscribe, unsubscribe, classify, auth, shutdown"};
}

}  // namespace neuroemu::serve::control
