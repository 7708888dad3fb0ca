#include "repo/audit_entry.hpp"

#include <cstdio>

#include "crypto/hash.hpp"
#include "repo/envelope.hpp"
#include "repo/json_read.hpp"

namespace bkp::repo {

using util::ErrorKind;
using util::fail;

namespace {

bool is_hex(std::string_view s, std::size_t n) {
  if (s.size() != n) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

nlohmann::json array_or_text(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_array()) return text;
  return j;
}

// Arrays of strings only: what the catalog columns hold.
const nlohmann::json& string_array(const nlohmann::json& j, const char* what) {
  if (!j.is_array())
    throw nlohmann::json::type_error::create(302, std::string(what) + " must be an array", &j);
  for (auto& e : j)
    if (!e.is_string())
      throw nlohmann::json::type_error::create(302, std::string(what) + " must hold strings", &j);
  return j;
}

const KeyId kAuditKeyId{'a', 'u', 'd', 'i', 't', 'v', '1', 0};

}  // namespace

util::SecretBytes audit_key(const Keyring& keyring) {
  auto d = crypto::keyed_hash(keyring.chunk_id_key, util::as_bytes("bkp audit key v1"));
  util::SecretBytes key(util::ByteView(d.data(), d.size()));
  util::wipe(d.data(), d.size());
  return key;
}

nlohmann::json audit_canonical(const catalog::AuditRow& row) {
  return nlohmann::json{{"v", audit_format_version},
                        {"chain", row.chain},
                        {"seq", row.seq.value_or(0)},
                        {"time", row.time},
                        {"user", row.user},
                        {"uid", row.uid},
                        {"host", row.host},
                        {"command", row.command},
                        {"args", array_or_text(row.args)},
                        {"result", row.result},
                        {"snapshots", array_or_text(row.snapshots)},
                        {"keys", array_or_text(row.keys)},
                        {"keyed", row.keyed},
                        {"prev", row.prev_mac}};
}

std::string audit_mac(const util::SecretBytes& key, const catalog::AuditRow& row) {
  std::string text = "bkp audit v1\n" + audit_canonical(row).dump();
  return util::to_hex(crypto::keyed_hash(key, util::as_bytes(text)));
}

std::string audit_object_name(std::string_view chain, std::int64_t seq) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%020lld", static_cast<long long>(seq));
  return std::string(audit_prefix) + std::string(chain) + "/" + buf;
}

std::optional<std::pair<std::string, std::int64_t>> parse_audit_object_name(std::string_view name) {
  if (!name.starts_with(audit_prefix)) return std::nullopt;
  name.remove_prefix(audit_prefix.size());
  if (name.size() != 32 + 1 + 20 || name[32] != '/' || !is_hex(name.substr(0, 32), 32))
    return std::nullopt;
  std::int64_t seq = 0;
  for (char c : name.substr(33)) {
    if (c < '0' || c > '9') return std::nullopt;
    if (seq > (INT64_MAX - 9) / 10) return std::nullopt;
    seq = seq * 10 + (c - '0');
  }
  if (seq < 1) return std::nullopt;
  return std::pair{std::string(name.substr(0, 32)), seq};
}

util::Bytes encode_audit_entry(const catalog::AuditRow& row) {
  auto j = audit_canonical(row);
  j["mac"] = row.mac;
  auto text = j.dump();
  return util::Bytes(text.begin(), text.end());
}

util::Result<catalog::AuditRow> decode_audit_entry(util::ByteView json) {
  try {
    auto j = nlohmann::json::parse(json.begin(), json.end());
    if (!j.is_object()) return fail(ErrorKind::corrupt, "audit entry is not a JSON object");
    auto version = json_integer<int>(j.at("v"), "v");
    if (version != audit_format_version) {
      return fail(ErrorKind::usage, "audit entry format " + std::to_string(version) +
                                        " is not one this bkp understands; upgrade bkp");
    }
    catalog::AuditRow r;
    r.chain = j.at("chain").get<std::string>();
    r.seq = json_integer<std::int64_t>(j.at("seq"), "seq");
    r.time = j.at("time").get<std::string>();
    r.user = j.at("user").get<std::string>();
    r.uid = json_integer<std::int64_t>(j.at("uid"), "uid");
    r.host = j.at("host").get<std::string>();
    r.command = j.at("command").get<std::string>();
    r.args = string_array(j.at("args"), "args").dump();
    r.result = json_integer<int>(j.at("result"), "result");
    r.snapshots = string_array(j.at("snapshots"), "snapshots").dump();
    r.keys = string_array(j.at("keys"), "keys").dump();
    r.keyed = j.at("keyed").get<bool>();
    r.prev_mac = j.at("prev").get<std::string>();
    r.mac = j.at("mac").get<std::string>();
    if (!is_hex(r.chain, 32) || *r.seq < 1 || !is_hex(r.prev_mac, 64) || !is_hex(r.mac, 64)) {
      return fail(ErrorKind::corrupt, "audit entry has a malformed chain, seq or mac");
    }
    r.mirrored = true;
    return r;
  } catch (const nlohmann::json::exception& e) {
    return fail(ErrorKind::corrupt, std::string("audit entry does not decode: ") + e.what());
  }
}

util::Bytes seal_audit_entry(const util::SecretBytes& key, const catalog::AuditRow& row) {
  auto name = audit_object_name(row.chain, row.seq.value_or(0));
  return seal_object(ObjectType::audit_entry, kAuditKeyId, key, encode_audit_entry(row),
                     util::as_bytes(name));
}

util::Result<catalog::AuditRow> open_audit_entry(const util::SecretBytes& key,
                                                 util::ByteView sealed, std::string_view name) {
  auto plain = open_object(ObjectType::audit_entry, key, sealed, util::as_bytes(name));
  if (!plain) return fail(plain.error().context("audit entry '" + std::string(name) + "'"));
  auto row = decode_audit_entry(*plain);
  if (!row) return fail(row.error().context("audit entry '" + std::string(name) + "'"));
  if (audit_object_name(row->chain, *row->seq) != name) {
    return fail(ErrorKind::verification,
                "audit entry '" + std::string(name) + "' names another chain or seq");
  }
  return row;
}

}  // namespace bkp::repo
