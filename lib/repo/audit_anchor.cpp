#include "repo/audit_anchor.hpp"

#include "repo/json_read.hpp"
#include "util/bytes.hpp"

namespace bkp::repo {

namespace {

[[noreturn]] void malformed(const nlohmann::json& j, const std::string& why) {
  throw nlohmann::json::type_error::create(302, "audit anchor " + why, &j);
}

}  // namespace

nlohmann::json encode_audit_anchor(const AuditAnchor& anchor) {
  // The MAC comes from the catalog's audit head, which append_audit wrote
  // as 64 hex digits; anything else would fail verify's comparison anyway.
  util::Bytes bytes;
  if (!util::from_hex(anchor.mac, bytes)) bytes.clear();
  return {{"chain", anchor.chain},
          {"seq", anchor.seq},
          {"mac", nlohmann::json::binary(std::move(bytes))}};
}

std::optional<AuditAnchor> decode_audit_anchor(const nlohmann::json& object) {
  auto it = object.find(audit_anchor_key);
  if (it == object.end()) return std::nullopt;
  const auto& j = *it;
  if (!j.is_object()) malformed(j, "must be a map");
  AuditAnchor a;
  a.chain = j.at("chain").get<std::string>();
  a.seq = json_integer<std::int64_t>(j.at("seq"), "audit anchor seq");
  const auto& mac = j.at("mac").get_binary();
  if (mac.size() != 32) malformed(j, "mac must be 32 bytes");
  a.mac = util::to_hex(util::ByteView(mac.data(), mac.size()));
  bool hex = a.chain.size() == 32;
  for (char c : a.chain)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) hex = false;
  if (!hex) malformed(j, "chain must be 32 lower-case hex digits");
  if (a.seq < 1) malformed(j, "seq must be at least 1");
  return a;
}

}  // namespace bkp::repo
