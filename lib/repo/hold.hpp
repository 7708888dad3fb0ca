// Legal holds ("holds/<snapshot id>"): a snapshot pinned so that neither a
// retention policy nor forget removes it. Kept in storage, sealed with the
// current data key, so a rebuilt catalog knows them again.
#pragma once

#include <string>

#include "util/bytes.hpp"
#include "util/result.hpp"

namespace bkp::repo {

struct Hold {
  std::string snapshot;  // 64 hex
  std::string reason;
  std::string created;  // RFC 3339
  std::string hostname;
  std::string username;

  std::string object_name() const { return "holds/" + snapshot; }
  util::Bytes encode() const;
  static util::Result<Hold> decode(util::ByteView cbor);
};

inline constexpr std::string_view hold_prefix = "holds/";
// The catalog's retention_until of a held snapshot: kept until released.
inline constexpr std::string_view kHeldUntil = "9999-12-31T23:59:59Z";

}  // namespace bkp::repo
