#include "repo/key_retirement.hpp"

#include <cstring>

#include "repo/json_read.hpp"

namespace bkp::repo {

using util::ErrorKind;
using util::fail;

std::optional<KeyId> parse_key_id(std::string_view hex) {
  util::Bytes raw;
  if (hex.size() != 16 || !util::from_hex(hex, raw) || util::to_hex(raw) != hex) return {};
  KeyId id;
  std::memcpy(id.data(), raw.data(), id.size());
  return id;
}

std::optional<KeyId> parse_key_retirement_name(std::string_view name) {
  if (name.substr(0, key_retirement_prefix.size()) != key_retirement_prefix) return {};
  return parse_key_id(name.substr(key_retirement_prefix.size()));
}

std::string KeyRetirement::object_name() const {
  return std::string(key_retirement_prefix) + util::to_hex(key);
}

util::Bytes KeyRetirement::encode() const {
  nlohmann::json j{
      {"version", 1},
      {"key", nlohmann::json::binary(std::vector<std::uint8_t>(key.begin(), key.end()))},
      {"created", created},
      {"delete_after", delete_after},
      {"hostname", hostname}};
  return nlohmann::json::to_cbor(j);
}

util::Result<KeyRetirement> KeyRetirement::decode(util::ByteView cbor) {
  try {
    auto j = parse_cbor(cbor);
    if (json_integer<int>(j.at("version"), "version") != 1) {
      return fail(ErrorKind::usage, "key retirement format is newer than this bkp; upgrade bkp");
    }
    KeyRetirement r;
    auto& bin = j.at("key").get_binary();
    if (bin.size() != r.key.size())
      return fail(ErrorKind::corrupt, "key retirement key id has a wrong length");
    std::memcpy(r.key.data(), bin.data(), r.key.size());
    r.created = j.at("created").get<std::string>();
    r.delete_after = j.at("delete_after").get<std::string>();
    r.hostname = j.value("hostname", "");
    return r;
  } catch (const nlohmann::json::exception& e) {
    return fail(ErrorKind::corrupt, std::string("key retirement is not valid: ") + e.what());
  }
}

}  // namespace bkp::repo
