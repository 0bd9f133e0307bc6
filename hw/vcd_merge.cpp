// Merging time-parallel VCD parts (hw/vcd_merge.h). The layout is SystemC's VCD writer's: the declarations up to
// $enddefinitions, a comment and the $dumpvars block of initial values, then per time step with a change "#time",
// the changed values in declaration order and an empty line, and last the time at closing alone.
#include "hw/vcd_merge.h"

#include <fmt/format.h>

#include <systemc>
#include <unordered_map>
#include <unordered_set>

#include "common/error.h"

namespace neuroemu {

namespace {

struct Change {
    std::string code, value;
    bool vector = false;  // written "b<bits> <code>" (else "<bit><code>")
};
struct Step {
    int64_t time = 0;
    std::vector<Change> changes;
};

struct ParsedVcd {
    std::string header;   // through "$enddefinitions  $end\n"
    std::string dumpvars_block;  // from the end of the header through the $dumpvars block's "$end\n\n"
    std::vector<Change> initial;
    std::vector<Step> steps;
    bool has_trailer = false;
    int64_t trailer_time = 0;  // the time at closing
    std::unordered_set<std::string> counters;  // codes of running counts
};

[[noreturn]] void bad(const std::string& what) { throw InternalError("VCD merge: " + what); }

Change parse_change(const std::string& line) {
    if (line.size() >= 2 && line[0] == 'b') {
        const size_t space = line.find(' ');
        if (space == std::string::npos) bad("a vector value without a code: " + line);
        return {line.substr(space + 1), line.substr(1, space - 1), true};
    }
    if (line.size() < 2) bad("a value line too short: " + line);
    return {line.substr(1), line.substr(0, 1), false};
}

std::string format_change(const Change& c) {
    return c.vector ? "b" + c.value + " " + c.code + "\n" : c.value + c.code + "\n";
}

// The codes of the core counters (running counts from the start of the trace): `$var wire 64 CODE NAME ...`.
void find_counters(ParsedVcd& v) {
    size_t at = 0;
    while ((at = v.header.find("$var ", at)) != std::string::npos) {
        const size_t end = v.header.find('\n', at);
        std::vector<std::string> tok;
        size_t p = at;
        while (p < end) {
            while (p < end && v.header[p] == ' ') ++p;
            const size_t q = std::min(end, v.header.find(' ', p));
            if (q > p) tok.push_back(v.header.substr(p, q - p));
            p = q;
        }
        if (tok.size() >= 5 && (tok[4] == "packets_sent" || tok[4] == "sops")) v.counters.insert(tok[3]);
        at = end;
    }
}

ParsedVcd parse(const std::string& text) {
    ParsedVcd v;
    const std::string enddefs = "$enddefinitions  $end\n";
    const size_t h = text.find(enddefs);
    if (h == std::string::npos) bad("no $enddefinitions");
    v.header = text.substr(0, h + enddefs.size());
    find_counters(v);
    size_t p = h + enddefs.size();
    const size_t dump = text.find("$dumpvars\n", p);
    if (dump == std::string::npos) bad("no $dumpvars");
    size_t line_start = dump + 10;
    for (;;) {
        const size_t e = text.find('\n', line_start);
        if (e == std::string::npos) bad("an unterminated $dumpvars block");
        const std::string line = text.substr(line_start, e - line_start);
        line_start = e + 1;
        if (line == "$end") break;
        v.initial.push_back(parse_change(line));
    }
    if (text.compare(line_start, 1, "\n") == 0) ++line_start;
    v.dumpvars_block = text.substr(p, line_start - p);
    p = line_start;
    Step* step = nullptr;
    while (p < text.size()) {
        size_t e = text.find('\n', p);
        if (e == std::string::npos) e = text.size();
        const std::string line = text.substr(p, e - p);
        p = e + 1;
        if (line.empty()) {
            step = nullptr;
            continue;
        }
        if (line[0] == '#') {
            v.steps.push_back({std::stoll(line.substr(1)), {}});
            step = &v.steps.back();
            continue;
        }
        if (!step) bad("a value outside a time step: " + line);
        step->changes.push_back(parse_change(line));
    }
    if (!v.steps.empty() && v.steps.back().changes.empty()) {
        v.has_trailer = true;
        v.trailer_time = v.steps.back().time;
        v.steps.pop_back();
    }
    return v;
}

uint64_t from_binary(const std::string& bits) {
    uint64_t x = 0;
    for (char c : bits) {
        if (c != '0' && c != '1') bad("a counter value that is not binary: " + bits);
        x = (x << 1) | static_cast<uint64_t>(c - '0');
    }
    return x;
}

std::string to_binary(uint64_t x) {
    if (x == 0) return "0";
    std::string s;
    for (; x; x >>= 1) s.insert(s.begin(), static_cast<char>('0' + (x & 1)));
    return s;
}

// The merged stream: the last value written per code, and what the writer prints for a step.
class Writer {
public:
    Writer(std::string& out, const ParsedVcd& first) : out_(out) {
        for (const Change& c : first.initial) last_[c.code] = c.value;
    }
    // Values at `time` (absolute); each printed only when it differs from the last one written.
    void step(int64_t time, const std::vector<Change>& changes, const std::unordered_map<std::string, uint64_t>& offsets) {
        bool printed = false;
        for (Change c : changes) {
            const auto off = offsets.find(c.code);
            if (off != offsets.end()) c.value = to_binary(from_binary(c.value) + off->second);
            std::string& last = last_[c.code];
            if (last == c.value) continue;
            if (!printed) out_ += fmt::format("#{}\n", time);
            printed = true;
            last = c.value;
            out_ += format_change(c);
        }
        if (printed) out_ += "\n";
    }
    uint64_t value_of(const std::string& code) const {
        const auto it = last_.find(code);
        if (it == last_.end()) bad("a counter without an initial value: " + code);
        return from_binary(it->second);
    }

private:
    std::string& out_;
    std::unordered_map<std::string, std::string> last_;
};

}  // namespace

std::string merge_vcd_parts(const std::vector<VcdPart>& parts) {
    if (parts.empty()) bad("no parts");
    std::vector<size_t> used;
    for (size_t k = 0; k < parts.size(); ++k)
        if (parts[k].has_ticks) used.push_back(k);
    if (used.empty()) return parts[0].text;
    const ParsedVcd first = parse(parts[used[0]].text);
    std::string out = first.header + first.dumpvars_block;
    Writer writer(out, first);
    int64_t trailer = -1;
    for (size_t i = 0; i < used.size(); ++i) {
        const VcdPart& part = parts[used[i]];
        const ParsedVcd v = i == 0 ? first : parse(part.text);
        if (v.header.substr(v.header.find("$timescale")) != first.header.substr(first.header.find("$timescale")))
            bad(fmt::format("part {} declares other variables than the first", used[i]));
        std::unordered_map<std::string, uint64_t> offsets;
        if (i > 0) {
            for (const std::string& code : v.counters) offsets[code] = writer.value_of(code);
            writer.step(part.offset_units, v.initial, offsets);
        }
        for (const Step& s : v.steps) writer.step(s.time + part.offset_units, s.changes, offsets);
        if (v.has_trailer) trailer = v.trailer_time + part.offset_units;
    }
    if (trailer >= 0) out += fmt::format("#{}\n", trailer);
    return out;
}

int64_t vcd_units_per_cycle(double clock_hz) {
    // As RouterEnv and VcdTracer: the period in kernel units, the unit 1 ns unless that does not divide it.
    const sc_core::sc_time period(1e9 / clock_hz, sc_core::SC_NS);
    const sc_core::sc_time ns(1, sc_core::SC_NS), ps(1, sc_core::SC_PS);
    const bool whole_ns = period.value() % ns.value() == 0;
    return static_cast<int64_t>(period.value() / (whole_ns ? ns.value() : ps.value()));
}

}  // namespace neuroemu
