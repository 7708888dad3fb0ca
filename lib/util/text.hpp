// Small text parsers that the storage backends' answers and the command
// line share: numbers that must be the whole of a text, percent-decoding.
#pragma once

#include <charconv>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

namespace bkp::util {

// The whole of `text` as a number, nothing before or after it (from_chars
// rules: no leading '+' or space; a '-' only for signed types). Integers
// may be read in another base (16 for PostgreSQL's LSNs); floating point
// numbers are always decimal.
template <typename T>
std::optional<T> parse_number(std::string_view text, int base = 10) {
  T value{};
  const char* end = text.data() + text.size();
  std::from_chars_result result;
  if constexpr (std::is_integral_v<T>) {
    result = std::from_chars(text.data(), end, value, base);
  } else {
    result = std::from_chars(text.data(), end, value);
  }
  if (result.ec != std::errc{} || result.ptr != end) return std::nullopt;
  return value;
}

// `text` in single quotes, as messages name objects, paths and prefixes.
// (Not "quoted": argument-dependent lookup would find std::quoted.)
inline std::string in_quotes(std::string_view text) { return "'" + std::string(text) + "'"; }

// Whether '+' means a space: form encoding, as S3's ListObjectsV2 answers
// with encoding-type=url (a '+' itself then comes as %2B).
enum class PlusIsSpace { no, yes };

// %XX escapes decoded; a '%' without two hex digits after it is kept as is.
std::string percent_decode(std::string_view text, PlusIsSpace plus = PlusIsSpace::no);

}  // namespace bkp::util
