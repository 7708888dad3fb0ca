// WAL archive entries ("wal/<timeline>/<file name>"): one small sealed
// object per file PostgreSQL archives (segments, .history, .backup and
// .partial files), naming the content-addressed data blobs that hold it and
// where they were stored, so that wal-fetch reads them without a catalog.
// Sealed CBOR, ObjectType::wal_entry. See doc/repository-format.md.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/hash.hpp"
#include "repo/audit_anchor.hpp"
#include "repo/pack.hpp"

namespace bkp::repo {

struct WalEntry {
  std::string name;  // PostgreSQL's file name, e.g. "000000010000000000000003"
  std::uint64_t size = 0;
  crypto::Digest sha256{};           // of the whole file, checked on fetch
  std::vector<BlobLocation> chunks;  // in file order
  std::string pushed;                // RFC 3339
  std::string hostname;
  // The pusher's audit chain head when the entry was written (see
  // repo/audit_anchor.hpp); nullopt in entries from before anchors.
  std::optional<AuditAnchor> audit;

  util::Bytes encode() const;
  static util::Result<WalEntry> decode(util::ByteView cbor);
};

// The object a WAL file name is archived under: "wal/<timeline>/<name>",
// the timeline being the name's first 8 hex digits. nullopt when `name` is
// not a WAL segment (24 hex digits), a .partial segment, a backup history
// file (<segment>.<8 hex>.backup) or a timeline history file (<8 hex>.history).
std::optional<std::string> wal_object_name(std::string_view name);

inline constexpr std::string_view wal_prefix = "wal/";

}  // namespace bkp::repo
