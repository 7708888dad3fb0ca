// Tree blobs kept on local disk, sealed as they are stored, so that an
// unchanged backup (which reads every tree of its parent snapshot) and a
// restore do not fetch them from an object store one request per directory.
//
// Beside the catalog: "<catalog>-trees/<2 hex>/<64 hex id>", files 0600 in
// 0700 directories. An entry holds the blob's sealed envelope exactly as in
// its pack, so the cache reveals no more than the storage does, and a key
// destroyed (keys shred, retirement) makes its entries useless like the
// stored copies. Nothing read from here is trusted: Repository::load_blob
// authenticates every entry (AEAD with the blob id bound in, then the
// content id, which is a keyed MAC) and treats any failure as a miss,
// removing the entry and reading the blob from storage. So the directory
// may be deleted, or damaged, at any time: only speed is lost.
#pragma once

#include <filesystem>
#include <optional>

#include "repo/pack.hpp"
#include "util/bytes.hpp"

namespace bkp::repo {

class TreeCache {
 public:
  explicit TreeCache(std::filesystem::path dir) : dir_(std::move(dir)) {}

  // The sealed blob stored under `id`, unauthenticated; nullopt when absent
  // or unreadable.
  std::optional<util::Bytes> get(const BlobId& id) const;
  // Best effort and not synced: a cache that cannot be written, or loses
  // an entry in a crash, is only slower. Atomic (temporary name, rename),
  // so a reader never sees half an entry.
  void put(const BlobId& id, util::ByteView sealed) const;
  void remove(const BlobId& id) const;
  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path path_of(const BlobId& id) const;

 private:
  std::filesystem::path dir_;
};

}  // namespace bkp::repo
