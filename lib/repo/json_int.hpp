// Integers read from repository JSON and CBOR (config, key slots, snapshot
// manifests). nlohmann's get<int>() also accepts a float and converts it
// with static_cast: 1.5 silently becomes 1, and 1e300 is undefined
// behaviour. Objects on storage are untrusted, so only integers that fit
// the target type are accepted.
#pragma once

#include <concepts>
#include <cstdint>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

namespace bkp::repo {

// The value of `j` as a T; throws nlohmann::json::type_error (which the
// decoders turn into ErrorKind::corrupt) when `j` is not an integer or does
// not fit in T.
template <std::integral T>
T json_integer(const nlohmann::json& j, const char* what) {
  bool fits = false;
  if (j.is_number_unsigned()) {
    fits = std::in_range<T>(j.get<std::uint64_t>());
  } else if (j.is_number_integer()) {
    fits = std::in_range<T>(j.get<std::int64_t>());
  }
  if (!fits) {
    throw nlohmann::json::type_error::create(
        302, std::string(what) + " must be an integer in range, not " + j.dump(), &j);
  }
  return j.is_number_unsigned() ? static_cast<T>(j.get<std::uint64_t>())
                                : static_cast<T>(j.get<std::int64_t>());
}

}  // namespace bkp::repo
