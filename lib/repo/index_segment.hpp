// Index segments ("index/<64 hex>"): which blobs live in which packs, written
// after the packs they describe are durable. The catalog's chunk index is
// the union of all segments, so it can always be rebuilt from storage.
#pragma once

#include <string>
#include <vector>

#include "repo/pack.hpp"

namespace bkp::repo {

struct IndexedPack {
  PackId id{};
  std::vector<PackHeaderEntry> blobs;
};

std::string new_index_name();
util::Bytes encode_index(const std::vector<IndexedPack>& packs);
util::Result<std::vector<IndexedPack>> decode_index(util::ByteView plaintext);

}  // namespace bkp::repo
