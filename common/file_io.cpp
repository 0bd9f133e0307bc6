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

}  // namespace neuroemu
