// CSV fields as RFC 4180 has them: a field holding a comma, a double quote or a line break is quoted, with its
// quotes doubled. The one escaping used by every CSV file neuroemu writes (report/, explore/).
#pragma once

#include <string>

namespace neuroemu {

inline std::string csv_field(const std::string& text) {
    if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
    std::string out = "\"";
    for (char c : text) {
        if (c == '"') out += '"';
        out += c;
    }
    return out + "\"";
}

}  // namespace neuroemu
