// A closed set of values spelt as words (in YAML, in files, in reports): one table per enum gives its words,
// its to_string and its parsing, so the spellings cannot drift apart. A value chosen from a registry later needs
// only a different word list (ChipField::words), not a different reader.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace neuroemu {

template <typename E>
struct EnumWord {
    E value;
    const char* word;
};

template <typename E, size_t N>
const char* word_of(E value, const EnumWord<E> (&table)[N]) {
    for (const auto& w : table)
        if (w.value == value) return w.word;
    return "?";
}

template <typename E, size_t N>
std::optional<E> enum_of(std::string_view word, const EnumWord<E> (&table)[N]) {
    for (const auto& w : table)
        if (word == w.word) return w.value;
    return std::nullopt;
}

template <typename E, size_t N>
std::vector<std::string> words_of(const EnumWord<E> (&table)[N]) {
    std::vector<std::string> out;
    for (const auto& w : table) out.emplace_back(w.word);
    return out;
}

}  // namespace neuroemu
