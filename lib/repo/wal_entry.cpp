#include "repo/wal_entry.hpp"

#include <cstring>

#include "repo/json_read.hpp"

namespace bkp::repo {

using catalog::Id32;
using util::ErrorKind;
using util::fail;

namespace {

bool upper_hex(std::string_view s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'))) return false;
  return true;
}

nlohmann::json binary(const Id32& id) {
  return nlohmann::json::binary(std::vector<std::uint8_t>(id.begin(), id.end()));
}

Id32 id32(const nlohmann::json& j, const char* what) {
  auto& b = j.get_binary();
  if (b.size() != 32)
    throw nlohmann::json::type_error::create(302, std::string(what) + " must be 32 bytes", &j);
  Id32 id;
  std::memcpy(id.data(), b.data(), 32);
  return id;
}

}  // namespace

std::optional<std::string> wal_object_name(std::string_view name) {
  bool ok = false;
  if (name.size() == 24) {
    ok = upper_hex(name);
  } else if (name.size() == 24 + 8 && name.substr(24) == ".partial") {
    ok = upper_hex(name.substr(0, 24));
  } else if (name.size() == 24 + 1 + 8 + 7 && name[24] == '.' && name.substr(33) == ".backup") {
    ok = upper_hex(name.substr(0, 24)) && upper_hex(name.substr(25, 8));
  } else if (name.size() == 8 + 8 && name.substr(8) == ".history") {
    ok = upper_hex(name.substr(0, 8));
  }
  if (!ok) return std::nullopt;
  return std::string(wal_prefix) + std::string(name.substr(0, 8)) + "/" + std::string(name);
}

util::Bytes WalEntry::encode() const {
  nlohmann::json chunks_j = nlohmann::json::array();
  for (auto& c : chunks) {
    chunks_j.push_back({{"id", binary(c.id)},
                        {"pack", binary(c.pack)},
                        {"offset", c.offset},
                        {"length", c.length},
                        {"raw_length", c.raw_length}});
  }
  nlohmann::json j{
      {"version", 1},       {"name", name},     {"size", size},        {"sha256", binary(sha256)},
      {"chunks", chunks_j}, {"pushed", pushed}, {"hostname", hostname}};
  if (audit) j[audit_anchor_key] = encode_audit_anchor(*audit);
  return nlohmann::json::to_cbor(j);
}

util::Result<WalEntry> WalEntry::decode(util::ByteView cbor) {
  try {
    auto j = parse_cbor(cbor);
    if (json_integer<int>(j.at("version"), "version") != 1) {
      return fail(ErrorKind::usage, "WAL entry format is newer than this bkp; upgrade bkp");
    }
    WalEntry e;
    e.name = j.at("name").get<std::string>();
    e.size = json_integer<std::uint64_t>(j.at("size"), "size");
    e.sha256 = id32(j.at("sha256"), "sha256");
    for (auto& c : j.at("chunks")) {
      BlobLocation loc;
      loc.id = id32(c.at("id"), "chunk id");
      loc.pack = id32(c.at("pack"), "pack id");
      loc.type = BlobType::data;
      loc.offset = json_integer<std::uint32_t>(c.at("offset"), "offset");
      loc.length = json_integer<std::uint32_t>(c.at("length"), "length");
      loc.raw_length = json_integer<std::uint32_t>(c.at("raw_length"), "raw_length");
      e.chunks.push_back(loc);
    }
    e.pushed = j.value("pushed", "");
    e.hostname = j.value("hostname", "");
    e.audit = decode_audit_anchor(j);
    return e;
  } catch (const nlohmann::json::exception& e) {
    return fail(ErrorKind::corrupt, std::string("WAL entry is not valid: ") + e.what());
  }
}

}  // namespace bkp::repo
