#include "report/format.h"

#include <array>
#include <cmath>
#include <fmt/format.h>

namespace neuroemu::report {
namespace {

const std::string kNotAvailable = "n/a";

// An SI symbol takes its prefix without a space ("µJ"); a word keeps one ("M SOP").
bool is_si_symbol(const std::string& unit) {
    return unit == "J" || unit == "s" || unit == "Hz" || unit == "W" || unit == "B" || unit == "b";
}

// Rounds |value| to `significant` digits and returns the decimals needed to print it that way.
int decimals_for(double magnitude, int significant) {
    if (magnitude == 0) return 0;
    const int digits_before_point = static_cast<int>(std::floor(std::log10(magnitude))) + 1;
    return std::max(0, significant - digits_before_point);
}

double round_significant(double magnitude, int significant) {
    const double step = std::pow(10.0, std::floor(std::log10(magnitude)) - (significant - 1));
    return std::round(magnitude / step) * step;
}

}  // namespace

std::string si(double value, const std::string& unit, int significant) {
    if (!std::isfinite(value)) return kNotAvailable;
    significant = std::max(1, significant);
    const std::string space_unit = unit.empty() ? "" : " " + unit;
    if (value == 0) return "0" + space_unit;
    static const std::array<const char*, 11> prefixes = {"a", "f", "p", "n", "µ", "m", "", "k", "M", "G", "T"};
    const int first_exponent = -18;
    const double magnitude = std::fabs(value);
    int exponent = static_cast<int>(std::floor(std::log10(magnitude) / 3.0)) * 3;
    double mantissa = round_significant(magnitude / std::pow(10.0, exponent), significant);
    if (mantissa >= 1000.0) {  // rounding carried into the next prefix (999.7 µ -> 1.00 m)
        exponent += 3;
        mantissa = round_significant(magnitude / std::pow(10.0, exponent), significant);
    }
    const int index = (exponent - first_exponent) / 3;
    if (exponent < first_exponent || index >= static_cast<int>(prefixes.size()))
        return fmt::format("{:.{}e}{}", value, significant - 1, space_unit);
    const std::string number =
        fmt::format("{}{:.{}f}", value < 0 ? "-" : "", mantissa, decimals_for(mantissa, significant));
    const std::string prefix = prefixes[static_cast<size_t>(index)];
    if (unit.empty()) return prefix.empty() ? number : number + " " + prefix;
    if (is_si_symbol(unit)) return number + " " + prefix + unit;
    return number + (prefix.empty() ? "" : " " + prefix) + " " + unit;
}

std::string coefficient(double value, const std::string& unit) {
    const auto slash = unit.find('/');
    if (slash == std::string::npos) return si(value, unit);
    return si(value, unit.substr(0, slash)) + " / " + unit.substr(slash + 1);
}

std::string si(const std::optional<double>& value, const std::string& unit, int significant) {
    return value ? si(*value, unit, significant) : kNotAvailable;
}

std::string percent(double fraction, int decimals) {
    if (!std::isfinite(fraction)) return kNotAvailable;
    return fmt::format("{:.{}f} %", fraction * 100.0, std::max(0, decimals));
}

std::string percent(const std::optional<double>& fraction, int decimals) {
    return fraction ? percent(*fraction, decimals) : kNotAvailable;
}

std::string ratio(double value) {
    if (!std::isfinite(value)) return kNotAvailable;
    if (std::fabs(value) >= 1e6) return si(value, "") + "×";
    const double magnitude = std::fabs(value);
    return fmt::format("{:.{}f}×", value, magnitude == 0 ? 0 : decimals_for(round_significant(magnitude, 3), 3));
}

std::string ratio(const std::optional<double>& value) { return value ? ratio(*value) : kNotAvailable; }

std::string integer(double value) {
    if (!std::isfinite(value)) return kNotAvailable;
    std::string digits = fmt::format("{:.0f}", std::fabs(value));
    std::string out;
    for (size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) out += "\u2009";  // thin space
        out += digits[i];
    }
    return (value < 0 && digits != "0" ? "-" : "") + out;
}

std::string integer(const std::optional<double>& value) { return value ? integer(*value) : kNotAvailable; }

std::string plain(double value, int significant) {
    if (!std::isfinite(value)) return kNotAvailable;
    return fmt::format("{:.{}g}", value, std::max(1, significant));
}

std::string plain(const std::optional<double>& value, int significant) {
    return value ? plain(*value, significant) : kNotAvailable;
}

std::string exact(double value) {
    if (std::isnan(value)) return "nan";
    if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
    return fmt::format("{:.17g}", value);
}

std::string exact(const std::optional<double>& value) { return value ? exact(*value) : ""; }

}  // namespace neuroemu::report
