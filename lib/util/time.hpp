// Time as bkp writes it: RFC 3339 UTC text in catalogs and manifests,
// nanoseconds since the epoch in file metadata.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bkp::util {

std::int64_t now_ns();
// "2026-11-26T13:45:58.123456Z" (microseconds, always UTC).
std::string format_rfc3339(std::int64_t ns_since_epoch);
std::string now_rfc3339();
// Accepts "YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)" and "YYYY-MM-DD HH:MM:SS"
// (taken as UTC); nullopt otherwise.
std::optional<std::int64_t> parse_rfc3339(std::string_view text);

}  // namespace bkp::util
