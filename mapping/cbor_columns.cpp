#include "mapping/cbor_columns.h"

#include <fmt/format.h>

namespace neuroemu {
namespace {

// nlohmann's SAX interface, accepting only map -> map -> list -> scalar and stopping at the first other thing.
class ColumnCollector {
public:
    explicit ColumnCollector(CborColumns& out) : out_(out) {}

    bool null() { return scalar(json()); }
    bool boolean(bool v) { return scalar(json(v)); }
    bool number_integer(json::number_integer_t v) { return scalar(json(v)); }
    bool number_unsigned(json::number_unsigned_t v) { return scalar(json(v)); }
    bool number_float(json::number_float_t v, const std::string&) { return scalar(json(v)); }
    bool string(std::string& v) { return scalar(json(v)); }
    bool binary(json::binary_t&) { return refuse("binary data"); }
    bool start_object(std::size_t) {
        if (depth_ == 2 || depth_ == 3) return refuse("an object");
        ++depth_;
        return true;
    }
    bool key(std::string& k) {
        if (depth_ == 1) section_ = k, out_[section_];
        if (depth_ == 2) column_ = &out_[section_][k], name_ = k;
        return true;
    }
    bool end_object() { return --depth_, true; }
    bool start_array(std::size_t) {
        if (depth_ != 2) return refuse("a list");
        depth_ = 3;
        return true;
    }
    bool end_array() { return depth_ = 2, true; }
    bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) {
        error_ = fmt::format("not valid CBOR: {}", e.what());
        return false;
    }
    const std::string& error() const { return error_; }

private:
    bool scalar(const json& v) {
        if (depth_ == 3) return column_->push_back(v), true;
        return refuse(describe(v));
    }
    // A value of the wrong kind where it stands: the whole body, a section, a column or a column's element.
    bool refuse(const std::string& found) {
        if (depth_ == 0) error_ = fmt::format("expected an object, found {}", found);
        if (depth_ == 1) error_ = fmt::format("{}: expected an object, found {}", section_, found);
        if (depth_ == 2) error_ = fmt::format("{}.{}: expected a list, found {}", section_, name_, found);
        if (depth_ == 3)
            error_ = fmt::format("{}.{}[{}]: expected a number, found {}", section_, name_, column_->size(), found);
        return false;
    }

    CborColumns& out_;
    int depth_ = 0;
    std::string section_, name_;
    std::vector<json>* column_ = nullptr;
    std::string error_;
};

}  // namespace

std::string parse_cbor_columns(std::string_view cbor, CborColumns& out) {
    ColumnCollector collector(out);
    try {
        if (json::sax_parse(cbor.begin(), cbor.end(), &collector, json::input_format_t::cbor)) return "";
    } catch (const json::exception& e) {
        return fmt::format("not valid CBOR: {}", e.what());
    }
    return collector.error().empty() ? "not valid CBOR" : collector.error();
}

}  // namespace neuroemu
