#include "common/file_io.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <fmt/format.h>

#include "common/error.h"

namespace neuroemu {

void write_file_atomic(const std::string& path, std::string_view content) {
    const std::string temp = fmt::format("{}.tmp{}", path, static_cast<long>(::getpid()));
    const auto fail = [&](const std::string& where, int error) {
        std::remove(temp.c_str());
        throw DataError(fmt::format("cannot write {}: {}", where, std::strerror(error)));
    };
    std::FILE* file = std::fopen(temp.c_str(), "wb");
    if (file == nullptr) fail(path, errno);
    const bool written = std::fwrite(content.data(), 1, content.size(), file) == content.size();
    const int write_error = errno;
    if (std::fclose(file) != 0 || !written) fail(path, written ? errno : write_error);
    if (std::rename(temp.c_str(), path.c_str()) != 0) fail(path, errno);
}

void replace_file(const std::string& from, const std::string& to) {
    if (std::rename(from.c_str(), to.c_str()) != 0)
        throw DataError(fmt::format("cannot move {} to {}: {}", from, to, std::strerror(errno)));
}

std::vector<uint8_t> read_file_bytes(const std::string& path) {
    std::FILE* file = std::fopen(path.c_str(), "rb");
    if (file == nullptr) throw DataError(fmt::format("cannot read {}: {}", path, std::strerror(errno)));
    std::vector<uint8_t> bytes;
    uint8_t buffer[1 << 16];
    size_t got;
    while ((got = std::fread(buffer, 1, sizeof buffer, file)) > 0) bytes.insert(bytes.end(), buffer, buffer + got);
    const int error = std::ferror(file) ? errno : 0;
    std::fclose(file);
    if (error != 0) throw DataError(fmt::format("cannot read {}: {}", path, std::strerror(error)));
    return bytes;
}

}  // namespace neuroemu
