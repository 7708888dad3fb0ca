// Forget records ("forgotten/<snapshot id>"): a snapshot was removed on
// purpose (bkp forget, or prune by a retention policy). bkp copy and
// replicas do not send a snapshot back into a repository that forgot it,
// and prune with replica.prune forgets in each replica what the primary
// forgot. Sealed CBOR, ObjectType::forget_record; see doc/copy.md.
#pragma once

#include <string>
#include <string_view>

#include "util/bytes.hpp"
#include "util/result.hpp"

namespace bkp::repo {

struct ForgetRecord {
  std::string snapshot;  // 64 hex
  std::string time;      // RFC 3339, when it was forgotten
  std::string hostname;

  std::string object_name() const;
  util::Bytes encode() const;
  static util::Result<ForgetRecord> decode(util::ByteView cbor);
};

inline constexpr std::string_view forget_record_prefix = "forgotten/";

}  // namespace bkp::repo
