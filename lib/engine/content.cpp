#include "engine/content.hpp"

#include "engine/blob_prefetch.hpp"

namespace bkp::engine {

util::Result<StoredContent> store_stream(repo::Repository& repo, const chunk::ReadFn& read,
                                         Checksum checksum,
                                         const std::function<void(std::size_t)>& on_bytes) {
  StoredContent out;
  std::optional<crypto::Sha256> hasher;
  if (checksum == Checksum::sha256) hasher.emplace();
  BKP_TRY(chunk::chunk_stream(repo.chunker(), read, [&](util::ByteView piece) -> util::Status {
    auto id = repo.blob_id(piece);
    BKP_TRY(repo.save_blob(repo::BlobType::data, piece, id));
    out.chunks.push_back(id);
    out.size += piece.size();
    if (hasher) hasher->update(piece);
    if (on_bytes) on_bytes(piece.size());
    return {};
  }));
  if (hasher) out.sha256 = hasher->finish();
  return out;
}

util::Status load_content(repo::Repository& repo, const std::vector<repo::BlobId>& chunks,
                          const std::function<util::Status(util::ByteView)>& write) {
  if (chunks.size() < 2) {
    for (auto& id : chunks) {
      BKP_ASSIGN(auto data, repo.load_blob(id));
      BKP_TRY(write(data));
    }
    return {};
  }
  // Decoded on every core ahead of the writing (the prefetcher bounds the
  // memory of decoded chunks; this, how many locations wait in its queue).
  constexpr std::size_t kQueued = 256;
  BlobPrefetcher prefetch(repo);
  std::size_t pushed = 0;
  for (std::size_t taken = 0; taken < chunks.size(); ++taken) {
    for (; pushed < chunks.size() && pushed - taken < kQueued; ++pushed) {
      BKP_ASSIGN(auto loc, repo.locate_blob(chunks[pushed]));
      prefetch.push(loc);
    }
    BKP_ASSIGN(auto data, prefetch.next());
    BKP_TRY(write(data));
  }
  return {};
}

}  // namespace bkp::engine
