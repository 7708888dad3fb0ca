#include "engine/content.hpp"

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
  for (auto& id : chunks) {
    BKP_ASSIGN(auto data, repo.load_blob(id));
    BKP_TRY(write(data));
  }
  return {};
}

}  // namespace bkp::engine
