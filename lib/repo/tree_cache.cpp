#include "repo/tree_cache.hpp"

#include <unistd.h>

#include "util/fs.hpp"

namespace bkp::repo {

namespace fs = std::filesystem;

fs::path TreeCache::path_of(const BlobId& id) const {
  auto hex = util::to_hex(id);
  return dir_ / hex.substr(0, 2) / hex;
}

std::optional<util::Bytes> TreeCache::get(const BlobId& id) const {
  auto bytes = util::read_file(path_of(id));
  if (!bytes) return std::nullopt;
  return std::move(*bytes);
}

void TreeCache::put(const BlobId& id, util::ByteView sealed) const {
  auto path = path_of(id);
  if (!util::make_dirs(path.parent_path(), 0700)) return;
  (void)util::write_file_atomic(path, sealed, 0600, util::Overwrite::allow, util::Durable::no);
}

void TreeCache::remove(const BlobId& id) const { ::unlink(path_of(id).c_str()); }

}  // namespace bkp::repo
