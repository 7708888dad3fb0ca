// Key retirement markers ("retire/<16 hex key id>"): written by
// `bkp keys rotate --reencrypt` before it rewrites what a data key sealed,
// removed once the key is destroyed. While one exists, a process that seals
// with that key refuses to write a snapshot or WAL entry (its data would
// name a key about to be destroyed), and a rotation that was killed finds
// from storage alone which keys it was retiring. Sealed CBOR with the index
// key, so backup slots can read them. See doc/key-rotation.md.
#pragma once

#include <optional>
#include <string>

#include "repo/envelope.hpp"

namespace bkp::repo {

struct KeyRetirement {
  KeyId key{};
  std::string created;       // RFC 3339
  std::string delete_after;  // RFC 3339: the key may be destroyed once this has passed
  std::string hostname;

  std::string object_name() const;
  util::Bytes encode() const;
  static util::Result<KeyRetirement> decode(util::ByteView cbor);
};

inline constexpr std::string_view key_retirement_prefix = "retire/";
// The key id in "retire/<16 hex>", or nullopt.
std::optional<KeyId> parse_key_retirement_name(std::string_view name);
// "0123456789abcdef" -> KeyId; nullopt unless exactly 16 lowercase hex digits.
std::optional<KeyId> parse_key_id(std::string_view hex);

}  // namespace bkp::repo
