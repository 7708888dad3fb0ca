// The temporary-file names that util::write_file_atomic uses for writes in
// progress: "<name>.tmp-" followed by 12 characters of [a-z0-9]. The local
// backend must never list or serve them (a crash can leave one behind, half
// written), so such names are also refused as object names on every backend,
// which keeps repositories portable between backends.
#pragma once

#include <string_view>

namespace bkp::storage {

inline constexpr std::string_view temp_marker = ".tmp-";
inline constexpr std::size_t temp_random_chars = 12;

// True if the last '/'-separated segment of `name` ends in a temporary suffix.
bool is_temp_name(std::string_view name);

}  // namespace bkp::storage
