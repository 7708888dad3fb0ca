// Prune marks ("prune/<64 hex>"): the first phase of prune's two-phase
// deletion. A mark names packs that prune found unreferenced (or whose live
// blobs it copied elsewhere) and the time after which a later prune may
// delete them. Backups read marks to stop deduplicating against those
// packs, and refuse to write a snapshot past the deadline of a mark they
// did not know when they started. A mark also names the WAL entries
// ("wal/...") no kept base backup needs, deleted by the same later prune.
// Sealed CBOR with the index key, so backup
// slots can read them. See doc/prune.md.
#pragma once

#include <string>
#include <vector>

#include "repo/pack.hpp"

namespace bkp::repo {

struct PruneMark {
  std::string created;       // RFC 3339
  std::string delete_after;  // RFC 3339: packs may go once this has passed
  std::string hostname;
  std::vector<PackId> packs;
  std::vector<std::string> wal;  // WAL entry object names; absent from older marks

  util::Bytes encode() const;
  static util::Result<PruneMark> decode(util::ByteView cbor);
};

std::string new_prune_mark_name();
inline constexpr std::string_view prune_mark_prefix = "prune/";

}  // namespace bkp::repo
