// Number formatting shared by the renderers, so the HTML, the Markdown and the tests format a value identically.
#pragma once

#include <optional>
#include <string>

namespace neuroemu::report {

// Three significant digits with an SI prefix: si(1.34e-5, "J") = "13.4 µJ", si(0.00963, "s") = "9.63 ms",
// si(1.74e8, "SOP") = "174 M SOP" (a space before a unit that is a word, not an SI symbol), si(721, "") = "721".
// NaN and infinities give "n/a"; zero gives "0 J".
std::string si(double value, const std::string& unit, int significant = 3);
std::string si(const std::optional<double>& value, const std::string& unit, int significant = 3);
// A coefficient in a compound unit "SYMBOL/PER": coefficient(7.7e-14, "J/SOP") = "77.0 fJ / SOP",
// coefficient(0.004, "W/core") = "4.00 mW / core".
std::string coefficient(double value, const std::string& unit);

// A fraction as a percentage with `decimals` decimals: percent(0.934) = "93.40 %".
std::string percent(double fraction, int decimals = 2);
std::string percent(const std::optional<double>& fraction, int decimals = 2);

// A ratio as "42.5×" (three significant digits, no prefix below 1e6).
std::string ratio(double value);
std::string ratio(const std::optional<double>& value);

// An integer count with thin-space thousands separators: integer(3370000) = "3 370 000".
std::string integer(double value);
std::string integer(const std::optional<double>& value);

// A plain number with `significant` digits and no prefix, for small quantities: plain(0.052) = "0.052".
std::string plain(double value, int significant = 3);
std::string plain(const std::optional<double>& value, int significant = 3);

// Full precision for machine-readable files: "%.17g" (round-trips a double); "" for nullopt; "nan"/"inf".
std::string exact(double value);
std::string exact(const std::optional<double>& value);

}  // namespace neuroemu::report
