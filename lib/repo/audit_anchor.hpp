// An audit anchor: the head of this catalog's audit chain (chain id, seq and
// MAC of its newest sealed entry) as recorded inside a snapshot manifest or
// WAL entry when it is written. Those objects are sealed, so nobody without
// a key can forge or change an anchor; `bkp audit verify` checks that every
// anchor's entry is still in its chain with that MAC, which catches the
// newest entries of a chain removed from both the catalog and the storage
// (up to the newest anchor). See doc/compliance.md, "Threat model", and
// doc/repository-format.md.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace bkp::repo {

struct AuditAnchor {
  std::string chain;  // 32 hex
  std::int64_t seq = 0;
  std::string mac;  // 64 hex: the entry's MAC

  bool operator==(const AuditAnchor&) const = default;
};

// The CBOR map key under which manifests and WAL entries carry it.
inline constexpr const char* audit_anchor_key = "audit";

// {"chain": text, "seq": unsigned, "mac": bytes(32)}.
nlohmann::json encode_audit_anchor(const AuditAnchor& anchor);
// The anchor in `object` (a decoded manifest or WAL entry), or nullopt when
// it has none (written before anchors existed, or with an empty chain).
// Throws nlohmann::json exceptions for a malformed one, as the callers'
// decoders expect.
std::optional<AuditAnchor> decode_audit_anchor(const nlohmann::json& object);

}  // namespace bkp::repo
