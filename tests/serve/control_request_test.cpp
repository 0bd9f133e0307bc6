// The control channel's request parser (serve/control_request.h) without a server: the documented requests
// (docs/serve.md, "Requests") become the typed values they describe, and each kind of bad request gets its code.
#include <gtest/gtest.h>

#include <string>

#include "serve/control_request.h"

namespace c = neuroemu::serve::control;
using nlohmann::json;

namespace {

c::RequestContext context() {
    c::RequestContext ctx;
    ctx.shape.channels = 3, ctx.shape.height = 32, ctx.shape.width = 32, ctx.shape.classes = 10;
    return ctx;
}

c::Body parse(const std::string& line, const c::RequestContext& ctx = context()) {
    c::Envelope e;
    c::parse_envelope(line, ctx.max_json_depth, e);
    return c::parse_body(e, ctx);
}

// The code of the RequestError the line is refused with ("" when accepted).
std::string refusal(const std::string& line, const c::RequestContext& ctx = context()) {
    try {
        parse(line, ctx);
    } catch (const c::RequestError& e) {
        return e.code;
    }
    return "";
}

}  // namespace

TEST(ControlRequest, DocumentedRequestsBecomeTheirTypedValues) {
    EXPECT_EQ(std::get<c::Run>(parse(R"({"id":1,"op":"run","ticks":10})")).ticks, 10);
    const auto sub = std::get<c::Subscribe>(parse(R"({"op":"subscribe","port":7100,"populations":["fc"],"ticks":false})"));
    EXPECT_EQ(sub.port, 7100);
    EXPECT_FALSE(sub.host.has_value());
    EXPECT_TRUE(sub.spikes && sub.classifications);
    EXPECT_FALSE(sub.ticks);
    EXPECT_EQ(sub.populations, std::vector<std::string>{"fc"});
    EXPECT_EQ(std::get<c::Subscribe>(parse(R"({"op":"subscribe","port":9,"host":"::1"})")).host, "::1");
    EXPECT_EQ(std::get<c::Load>(parse(R"({"op":"load","config":"../secret.yaml"})")).config, "../secret.yaml");
    EXPECT_EQ(std::get<c::Unsubscribe>(parse(R"({"op":"unsubscribe","subscription":3})")).subscription, 3);
    EXPECT_TRUE(std::get<c::Pause>(parse(R"({"op":"pause"})")).pause);
    EXPECT_FALSE(std::get<c::Pause>(parse(R"({"op":"resume"})")).pause);
    EXPECT_TRUE(std::holds_alternative<c::Hello>(parse(R"({"op":"auth","token":"t"})")));
    EXPECT_TRUE(std::holds_alternative<c::Shutdown>(parse(R"({"op":"shutdown"})")));
}

// Flat indices as given; [c, y, x] as c * 32 * 32 + y * 32 + x; missing ticks empty; each spike counted once.
TEST(ControlRequest, ClassifyEventsAreFlatIndicesOneListPerTick) {
    const auto flat = std::get<c::Classify>(parse(R"({"op":"classify","ticks":3,"events":[[12,400,401],[12]],"label":9})"));
    ASSERT_EQ(flat.events.size(), 3u);
    ASSERT_EQ(flat.events[0].size(), 3u);
    EXPECT_EQ(flat.events[0][1].index, 400);
    EXPECT_EQ(flat.events[0][1].count, 1);
    EXPECT_EQ(flat.events[1][0].index, 12);
    EXPECT_TRUE(flat.events[2].empty());
    EXPECT_EQ(flat.label, 9);
    const auto cyx = std::get<c::Classify>(parse(R"({"op":"classify","ticks":1,"format":"cyx","events":[[[2,31,31],[1,2,3]]]})"));
    ASSERT_EQ(cyx.events[0].size(), 2u);
    EXPECT_EQ(cyx.events[0][0].index, 3 * 32 * 32 - 1);
    EXPECT_EQ(cyx.events[0][1].index, 1024 + 2 * 32 + 3);
    EXPECT_FALSE(cyx.label.has_value());
}

TEST(ControlRequest, EachBadRequestGetsItsCode) {
    EXPECT_EQ(refusal("{\"op\": "), "invalid_json");
    EXPECT_EQ(refusal("1e400"), "invalid_json");  // nlohmann's out_of_range, once uncaught (fuzz/control_fuzz.cpp)
    EXPECT_EQ(refusal(R"({"op":"run","ticks":1e400})"), "invalid_json");
    EXPECT_EQ(refusal("[1]"), "invalid_request");
    // Depth counts from 0 at the outer value (nlohmann's parser callback): 65 lists nest to depth 64, allowed.
    EXPECT_EQ(refusal(std::string(66, '[') + std::string(66, ']')), "too_deep");
    EXPECT_EQ(refusal(std::string(65, '[') + std::string(65, ']')), "invalid_request");
    EXPECT_EQ(refusal(R"({"id":1})"), "missing_field");
    EXPECT_EQ(refusal(R"({"op":"fly"})"), "unknown_op");
    EXPECT_EQ(refusal(R"({"op":"run","ticks":0})"), "bad_field");
    EXPECT_EQ(refusal(R"({"op":"run","ticks":1000000001})"), "bad_field");
    EXPECT_EQ(refusal(R"({"op":"run","ticks":18446744073709551615})"), "bad_field");
    EXPECT_EQ(refusal(R"({"op":"run","ticks":2.5})"), "bad_field");
    EXPECT_EQ(refusal(R"({"op":"subscribe","port":65536})"), "bad_field");
    EXPECT_EQ(refusal(R"({"op":"subscribe","port":9,"host":"10.1.2.3"})"), "remote_host_refused");
    c::RequestContext remote = context();
    remote.allow_remote = true;
    EXPECT_EQ(refusal(R"({"op":"subscribe","port":9,"host":"10.1.2.3"})", remote), "");
    EXPECT_EQ(refusal(R"({"op":"subscribe","port":9,"populations":"fc"})"), "bad_field");
    EXPECT_EQ(refusal(R"({"op":"subscribe","port":9,"populations":[3]})"), "bad_field");
    EXPECT_EQ(refusal(R"({"op":"unsubscribe","subscription":0})"), "bad_field");
    EXPECT_EQ(refusal(R"({"op":"classify","ticks":1,"events":[[3072]]})"), "bad_address");
    EXPECT_EQ(refusal(R"({"op":"classify","ticks":1,"events":[[18446744073709551615]]})"), "bad_address");
    EXPECT_EQ(refusal(R"({"op":"classify","ticks":1,"format":"cyx","events":[[[3,0,0]]]})"), "bad_address");
    EXPECT_EQ(refusal(R"({"op":"classify","ticks":1,"format":"cyx","events":[[[0,0]]]})"), "bad_address");
    EXPECT_EQ(refusal(R"({"op":"classify","ticks":1,"format":"xyz","events":[]})"), "bad_field");
    EXPECT_EQ(refusal(R"({"op":"classify","ticks":1,"events":[[1],[2]]})"), "bad_field");
    EXPECT_EQ(refusal(R"({"op":"classify","ticks":1,"events":[[1]],"label":10})"), "bad_field");
    EXPECT_EQ(refusal(R"({"op":"classify","ticks":65536,"events":[]})"), "bad_field");
    EXPECT_EQ(refusal(R"({"op":"load","config":7})"), "bad_field");
}

// The id is known before "op" is checked, so that the answer to a request without an op still names it.
TEST(ControlRequest, TheIdIsSetBeforeTheOpIsChecked) {
    c::Envelope e;
    EXPECT_THROW(c::parse_envelope(R"({"id":[7,"x"],"op":5})", 64, e), c::RequestError);
    EXPECT_EQ(e.id, json({7, "x"}));
}
