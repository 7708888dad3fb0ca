// Tree blobs through the local tree cache (tree_cache.hpp). A walk of a
// snapshot (restore, ls, diff, and an incremental backup reading its
// parent) asks for one tree per directory, in order; on an object store
// each was a request with its round trip. Now a tree comes from the cache
// when an authenticated copy is there; on a miss, one ranged request reads
// it together with the other trees near it in its pack (repo::plan_reads,
// at most kRemoteReadLimits.max_span bytes), since the trees of one backup
// are written side by side and the walk will want them next, and all of
// them go into the cache.
#include <algorithm>
#include <cstring>

#include "repo/read_plan.hpp"
#include "repo/repository.hpp"

namespace bkp::repo {

void Repository::set_tree_cache(std::optional<std::filesystem::path> dir) {
  if (dir)
    tree_cache_.emplace(std::move(*dir));
  else
    tree_cache_.reset();
}

void Repository::trim_tree_cache() {
  if (!tree_cache_) return;
  namespace fs = std::filesystem;
  std::vector<fs::path> stale;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(tree_cache_->dir(), ec), end; !ec && it != end;
       it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    util::Bytes raw;
    BlobId id{};
    if (!util::from_hex(it->path().filename().string(), raw) || raw.size() != id.size()) {
      stale.push_back(it->path());
      continue;
    }
    std::memcpy(id.data(), raw.data(), id.size());
    auto found = catalog_->find_blob(id);
    if (found && !*found) stale.push_back(it->path());
  }
  for (auto& p : stale) fs::remove(p, ec);
}

util::Result<util::Bytes> Repository::load_tree_blob(const BlobLocation& loc) {
  if (auto sealed = tree_cache_->get(loc.id)) {
    auto plain = decode_blob(loc, *sealed);
    if (plain) return plain;
    // Damaged, planted, or sealed with a key this process lacks: never
    // used; the storage's copy is read (and judged) instead.
    tree_cache_->remove(loc.id);
  }
  BKP_ASSIGN(auto sealed, fetch_tree_neighbours(loc));
  return decode_blob(loc, sealed);
}

util::Result<util::Bytes> Repository::fetch_tree_neighbours(const BlobLocation& loc) {
  auto single = [&]() -> util::Result<util::Bytes> {
    BKP_ASSIGN(auto sealed, read_sealed(loc));
    tree_cache_->put(loc.id, sealed);
    return sealed;
  };
  // The catalog knows the trees of packs that are indexed; a blob of this
  // process's own pending packs is read alone.
  auto neighbours = catalog_->locations_in_pack(loc.pack, BlobType::tree);
  if (!neighbours) return single();
  std::vector<ByteRange> ranges;
  std::optional<std::size_t> wanted;
  for (std::size_t i = 0; i < neighbours->size(); ++i) {
    auto& n = (*neighbours)[i];
    if (n.id == loc.id && n.offset == loc.offset && n.length == loc.length) wanted = i;
    ranges.push_back({n.offset, n.length});
  }
  if (!wanted) return single();
  for (auto& read : plan_reads(ranges, kRemoteReadLimits)) {
    if (std::find(read.members.begin(), read.members.end(), *wanted) == read.members.end())
      continue;
    if (read.members.size() == 1) return single();
    auto bytes =
        backend_->get_range(pack_object_name(loc.pack), read.span.offset, read.span.length);
    // A pack shorter than the index says may still hold this blob: the
    // single read says which (and how it failed, in the usual words).
    if (!bytes) return single();
    util::ByteView all(*bytes);
    util::Bytes out;
    for (std::size_t m : read.members) {
      auto& n = (*neighbours)[m];
      auto sealed = all.subspan(n.offset - read.span.offset, n.length);
      tree_cache_->put(n.id, sealed);
      if (m == *wanted) out.assign(sealed.begin(), sealed.end());
    }
    return out;
  }
  return single();
}

}  // namespace bkp::repo
