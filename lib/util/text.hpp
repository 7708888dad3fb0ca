// Small text parsers that the storage backends' answers and the command
// line share: numbers that must be the whole of a text, percent-decoding.
#pragma once

#include <charconv>
#include <optional>
#include <string>
#include <string_view>

namespace bkp::util {

// The whole of `text` as a number, nothing before or after it (from_chars
// rules: no leading '+' or space; a '-' only for signed types).
template <typename T>
std::optional<T> parse_number(std::string_view text) {
  T value{};
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc{} || ptr != end) return std::nullopt;
  return value;
}

// Whether '+' means a space: form encoding, as S3's ListObjectsV2 answers
// with encoding-type=url (a '+' itself then comes as %2B).
enum class PlusIsSpace { no, yes };

// %XX escapes decoded; a '%' without two hex digits after it is kept as is.
std::string percent_decode(std::string_view text, PlusIsSpace plus = PlusIsSpace::no);

}  // namespace bkp::util
