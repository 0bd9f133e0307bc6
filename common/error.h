// Error kinds a user can act on. Library code throws; only main() turns them into exit codes.
#pragma once

#include <stdexcept>
#include <string>

namespace neuroemu {

// Base of every error neuroemu reports to a user.
class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Bad configuration: YAML files, --set overrides, CLI arguments.
class ConfigError : public Error {
public:
    using Error::Error;
};

// Bad model: ONNX files, inconsistent networks.
class ModelError : public Error {
public:
    using Error::Error;
};

// Bad data files (datasets, traces).
class DataError : public Error {
public:
    using Error::Error;
};

// A bug in neuroemu itself, never the user's input.
class InternalError : public Error {
public:
    using Error::Error;
};

}  // namespace neuroemu
