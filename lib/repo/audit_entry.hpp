// One audit log entry as stored: "audit/<chain>/<seq>", a sealed envelope
// (ObjectType::audit_entry) around the entry's canonical JSON plus its MAC.
// The MAC chains the entries of one chain: it covers the entry's fields, its
// sequence number and the previous entry's MAC, under a key derived from the
// chunk-id key, which every key slot role holds (see doc/compliance.md).
// See doc/repository-format.md, "Audit entries".
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>

#include "catalog/catalog.hpp"
#include "repo/keyring.hpp"

namespace bkp::repo {

inline constexpr std::string_view audit_prefix = "audit/";
inline constexpr int audit_format_version = 1;
// The prev_mac of a chain's first entry.
inline const std::string audit_genesis_mac(64, '0');

// BLAKE2b keyed with the chunk-id key over a fixed label: every role has the
// chunk-id key (a backup slot needs it to name chunks), so every role can
// append; nobody without a key slot can.
util::SecretBytes audit_key(const Keyring& keyring);

// The fields the MAC covers, as JSON (keys sorted by nlohmann::json, so the
// dump is canonical). A text column that is not valid JSON enters as a
// string, so a tampered row fails its MAC instead of throwing.
nlohmann::json audit_canonical(const catalog::AuditRow& row);
// 64 hex digits: keyed BLAKE2b of "bkp audit v1\n" + canonical dump.
std::string audit_mac(const util::SecretBytes& key, const catalog::AuditRow& row);

// "audit/<chain>/<seq as 20 decimal digits>", so names sort by seq.
std::string audit_object_name(std::string_view chain, std::int64_t seq);
// The chain and seq in an object name, or nullopt when it is not one.
std::optional<std::pair<std::string, std::int64_t>> parse_audit_object_name(std::string_view name);

// Plaintext of the stored object: the canonical JSON plus "mac". decode()
// checks every field's type (not the MAC: see verify in audit_log.cpp).
util::Bytes encode_audit_entry(const catalog::AuditRow& row);
util::Result<catalog::AuditRow> decode_audit_entry(util::ByteView json);

util::Bytes seal_audit_entry(const util::SecretBytes& key, const catalog::AuditRow& row);
util::Result<catalog::AuditRow> open_audit_entry(const util::SecretBytes& key,
                                                 util::ByteView sealed, std::string_view name);

}  // namespace bkp::repo
