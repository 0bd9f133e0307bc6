// Families of interchangeable implementations, chosen by name from the configuration (Ramulator 2 style).
//
// A family (placement, multicast, neuron model, ...) is one interface class plus a Family<Interface> object
// that maps names to implementations. Each implementation declares its own parameters (ParamSpec: key, unit,
// default, meaning) and a factory that builds it from validated Settings. The YAML key that selects the
// implementation gets its allowed words from the family (`selector()`), and every implementation's parameters
// join the schema (`params()`), so docs/config.md and `neuroemu list` are generated from the registrations.
//
// Registration and the static linker: the libraries are STATIC archives, and a self-registering static object
// in a .cpp that nothing references is silently dropped by the linker. So the built-in implementations are
// registered explicitly: each implementation file defines `void register_<name>(Family<I>&)`, and the family's
// accessor (e.g. `placements()` in mapping/placement/placement.cpp) calls them once, on first use. That call
// chain references every implementation file, so none can be dropped, whatever links the library. Code that is
// linked as an object file of its own (a test, a plugin) may instead register itself at static-initialisation
// time with a `Registrar`; the accessors are function-local statics, so the order of initialisation is safe.
#pragma once

#include <fmt/format.h>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/config.h"
#include "common/error.h"

namespace neuroemu {

// What a listing shows of one implementation.
struct ImplementationInfo {
    std::string name;
    std::string description;           // one sentence
    std::vector<ParamSpec> params;     // its own parameters (keys in the schema)
};

// The part of a family that does not depend on its interface: names, descriptions, parameters.
class FamilyInfo {
public:
    // `key`: the YAML key that selects the implementation ("" when it is chosen otherwise, e.g. a CLI option).
    FamilyInfo(std::string name, std::string key, std::string description)
        : name_(std::move(name)), key_(std::move(key)), description_(std::move(description)) {}
    virtual ~FamilyInfo() = default;

    const std::string& name() const { return name_; }
    const std::string& key() const { return key_; }
    const std::string& description() const { return description_; }
    virtual std::vector<ImplementationInfo> implementations() const = 0;
    std::vector<std::string> names() const;
    bool has(const std::string& name) const;

    // The selecting key, an Enum of the registered names with `default_name`, described by the family's
    // description and each implementation's.
    ParamSpec selector(const std::string& default_name) const;
    // Every implementation's own parameters, in registration order. Implementations may share a key (e.g. two
    // image readers with the same preprocessing) by declaring it identically; it is listed once. Throws
    // InternalError when two declarations of one key differ.
    std::vector<ParamSpec> params() const;
    // "unknown placement 'curv' (did you mean 'curve'?); registered: curve, row_major".
    std::string unknown(const std::string& name) const;

private:
    std::string name_, key_, description_;
};

template <typename Interface>
class Family : public FamilyInfo {
public:
    using Factory = std::function<std::unique_ptr<Interface>(const Settings&)>;
    struct Implementation {
        ImplementationInfo info;
        Factory make;
    };

    using FamilyInfo::FamilyInfo;

    // Throws InternalError when the name is taken (two files registering one name is a bug).
    void add(ImplementationInfo info, Factory make) {
        if (has(info.name))
            throw InternalError(fmt::format("{} '{}' registered twice", name(), info.name));
        impls_.push_back({std::move(info), std::move(make)});
    }

    std::vector<ImplementationInfo> implementations() const override {
        std::vector<ImplementationInfo> out;
        for (const auto& i : impls_) out.push_back(i.info);
        return out;
    }

    // Builds `name` from validated settings holding its parameters. Throws ConfigError for an unknown name.
    std::unique_ptr<Interface> make(const std::string& name, const Settings& settings) const {
        return find(name).make(settings);
    }
    // Builds `name` with its own parameters at their defaults.
    std::unique_ptr<Interface> make(const std::string& name) const {
        const Implementation& impl = find(name);
        return impl.make(Schema({}, impl.info.params).parse("", "", ""));
    }

private:
    const Implementation& find(const std::string& impl_name) const {
        for (const auto& i : impls_)
            if (i.info.name == impl_name) return i;
        throw ConfigError(unknown(impl_name));
    }

    std::vector<Implementation> impls_;
};

// Registers one implementation when constructed: for implementations linked as their own object files (tests,
// plugins), as a namespace-scope `const Registrar<I> r(family(), {...}, factory);`.
template <typename Interface>
struct Registrar {
    Registrar(Family<Interface>& family, ImplementationInfo info, typename Family<Interface>::Factory make) {
        family.add(std::move(info), std::move(make));
    }
};

}  // namespace neuroemu
