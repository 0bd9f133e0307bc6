// Checked access to a parsed JSON/CBOR document (the `.map` file's header and body, mapping/map_file.cpp): every
// missing field, wrong type or out-of-range number is a DataError naming the file, where the value sits and what
// was expected, never a crash. `where` arguments are callables returning that place ("header: layers[3].rate",
// "core 17: synapses"), so that a million well-formed values cost no formatting.
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <type_traits>

#include "common/error.h"

namespace neuroemu {

using json = nlohmann::json;

// Parses JSON text or CBOR bytes into `out`, refusing nesting deeper than `max_depth` (a hostile file cannot
// exhaust the stack). Returns "" or the reason it failed.
std::string parse_bounded(std::string_view bytes, nlohmann::json::input_format_t format, int max_depth, json& out);

// A value as it appears in an error: short, one line, any bytes.
std::string describe(const json& v);

class JsonReader {
public:
    explicit JsonReader(std::string file) : file_(std::move(file)) {}

    [[noreturn]] void fail(const std::string& where, const std::string& what) const {
        throw DataError(fmt::format("{}: {}: {}", file_, where, what));
    }

    // The field `key` of the object `obj` (found at `where`).
    const json& field(const json& obj, const char* key, const std::string& where) const {
        if (!obj.is_object()) fail(where, fmt::format("expected an object, found {}", describe(obj)));
        const auto it = obj.find(key);
        if (it == obj.end()) fail(where, fmt::format("missing field '{}'", key));
        return *it;
    }
    // Refuses fields other than `keys`: a misspelt field is an error, not a silently missing one.
    void only(const json& obj, std::initializer_list<const char*> keys, const std::string& where) const {
        if (!obj.is_object()) fail(where, fmt::format("expected an object, found {}", describe(obj)));
        for (const auto& item : obj.items()) {
            bool known = false;
            for (const char* k : keys) known = known || item.key() == k;
            if (!known) fail(where, fmt::format("unexpected field '{}'", item.key()));
        }
    }
    // A list of exactly `n` elements (any length when n < 0).
    template <typename Where>
    const json& list(const json& v, int64_t n, Where&& where) const {
        if (!v.is_array()) fail(where(), fmt::format("expected a list, found {}", describe(v)));
        if (n >= 0 && static_cast<int64_t>(v.size()) != n)
            fail(where(), fmt::format("expected a list of {}, found a list of {}", n, v.size()));
        return v;
    }
    template <typename T, typename Where>
    T integer(const json& v, Where&& where) const {
        static_assert(std::is_integral_v<T> && std::is_signed_v<T>);
        constexpr auto lo = std::numeric_limits<T>::min();
        constexpr auto hi = std::numeric_limits<T>::max();
        if (v.is_number_unsigned()) {
            const auto u = v.get<uint64_t>();
            if (u > static_cast<uint64_t>(hi)) fail(where(), fmt::format("{} is out of range ({} to {})", u, lo, hi));
            return static_cast<T>(u);
        }
        if (!v.is_number_integer()) fail(where(), fmt::format("expected an integer, found {}", describe(v)));
        const auto i = v.get<int64_t>();
        if (i < lo || i > hi) fail(where(), fmt::format("{} is out of range ({} to {})", i, lo, hi));
        return static_cast<T>(i);
    }
    // Integers are accepted too; finiteness and sign are the caller's checks (validate_mapping).
    template <typename Where>
    double real(const json& v, Where&& where) const {
        if (!v.is_number()) fail(where(), fmt::format("expected a number, found {}", describe(v)));
        return v.get<double>();
    }
    template <typename Where>
    bool flag(const json& v, Where&& where) const {
        if (!v.is_boolean()) fail(where(), fmt::format("expected true or false, found {}", describe(v)));
        return v.get<bool>();
    }
    template <typename Where>
    std::string text(const json& v, Where&& where) const {
        if (!v.is_string()) fail(where(), fmt::format("expected a string, found {}", describe(v)));
        return v.get<std::string>();
    }
    // One of `values`, spelt as to_string spells them.
    template <typename E, typename Where>
    E choice(const json& v, std::initializer_list<E> values, Where&& where) const {
        std::string allowed;
        if (v.is_string())
            for (E e : values)
                if (v.get_ref<const std::string&>() == to_string(e)) return e;
        for (E e : values) allowed += (allowed.empty() ? "" : ", ") + std::string(to_string(e));
        fail(where(), fmt::format("expected one of {}, found {}", allowed, describe(v)));
    }

private:
    std::string file_;
};

}  // namespace neuroemu
