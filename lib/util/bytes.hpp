// Byte buffers and views used across lib/.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace bkp::util {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

inline ByteView as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}
inline std::string_view as_chars(ByteView b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}
inline Bytes to_bytes(std::string_view s) {
  auto v = as_bytes(s);
  return Bytes(v.begin(), v.end());
}
inline void append(Bytes& out, ByteView in) { out.insert(out.end(), in.begin(), in.end()); }

// Little-endian fixed-width integers, for the on-disk formats in doc/.
void put_u32le(Bytes& out, std::uint32_t v);
void put_u64le(Bytes& out, std::uint64_t v);
std::uint32_t get_u32le(const std::uint8_t* p);
std::uint64_t get_u64le(const std::uint8_t* p);

std::string to_hex(ByteView b);
// Returns false on odd length or a non-hex digit.
bool from_hex(std::string_view hex, Bytes& out);

}  // namespace bkp::util
