// Bytes for the collectives of mpi/world.h: a flat little-endian-as-in-memory encoding of integers, doubles, strings
// and vectors of them. Exact (doubles travel bit for bit), so merged results are identical to one process's.
// Every rank runs the same binary, so the layout needs no versioning.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "common/error.h"

namespace neuroemu::mpi {

class Packer {
public:
    template <class T>
    Packer& put(const T& v) {
        static_assert(std::is_trivially_copyable_v<T>, "Packer::put: a plain value");
        bytes_.append(reinterpret_cast<const char*>(&v), sizeof v);
        return *this;
    }
    Packer& put(const std::string& s) {
        put(static_cast<uint64_t>(s.size()));
        bytes_.append(s);
        return *this;
    }
    template <class T>
    Packer& put(const std::vector<T>& v) {
        put(static_cast<uint64_t>(v.size()));
        if constexpr (std::is_trivially_copyable_v<T>) {
            if (!v.empty()) bytes_.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
        } else {
            for (const T& x : v) put(x);
        }
        return *this;
    }
    const std::string& bytes() const { return bytes_; }
    std::string take() { return std::move(bytes_); }

private:
    std::string bytes_;
};

class Unpacker {
public:
    explicit Unpacker(const std::string& bytes) : p_(bytes.data()), end_(bytes.data() + bytes.size()) {}
    template <class T>
    void get(T& v) {
        static_assert(std::is_trivially_copyable_v<T>, "Unpacker::get: a plain value");
        need(sizeof v);
        std::memcpy(&v, p_, sizeof v);
        p_ += sizeof v;
    }
    void get(std::string& s) {
        uint64_t n = 0;
        get(n);
        need(n);
        s.assign(p_, n);
        p_ += n;
    }
    template <class T>
    void get(std::vector<T>& v) {
        uint64_t n = 0;
        get(n);
        if constexpr (std::is_trivially_copyable_v<T>) {
            need(n * sizeof(T));
            v.resize(n);
            if (n) std::memcpy(v.data(), p_, n * sizeof(T));  // (an empty vector's data() may be null)
            p_ += n * sizeof(T);
        } else {
            need(n);  // every element takes at least one byte
            v.resize(n);
            for (T& x : v) get(x);
        }
    }
    template <class T>
    T get() {
        T v{};
        get(v);
        return v;
    }
    bool done() const { return p_ == end_; }

private:
    void need(uint64_t n) const {
        if (n > static_cast<uint64_t>(end_ - p_)) throw InternalError("mpi: a message from another rank is truncated");
    }
    const char* p_;
    const char* end_;
};

}  // namespace neuroemu::mpi
