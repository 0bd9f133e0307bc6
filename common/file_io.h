// Writing output files so that a reader never sees half of one: the one atomic-write helper of the project; and
// reading a file whole.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace neuroemu {

// Writes `content` to `path` through a temporary file beside it (named with the process id, so concurrent
// processes never share one) and a rename. On failure the temporary file is removed, `path` is left as it was,
// and a DataError names the file and the system's reason ("cannot write out/map.json: No space left on device").
void write_file_atomic(const std::string& path, std::string_view content);

// Renames `from` onto `to` (same file system), replacing it; DataError naming both on failure.
void replace_file(const std::string& from, const std::string& to);

// The whole of a file's bytes; DataError "cannot read PATH: <reason>" when it cannot be opened or read.
std::vector<uint8_t> read_file_bytes(const std::string& path);

}  // namespace neuroemu
