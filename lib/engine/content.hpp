// Stores a byte stream as content-defined chunks and returns their ids;
// shared by every source that hands the engine a stream (files, stdin,
// database dumps). Also the reverse: writes chunk ids back out as bytes.
#pragma once

#include <functional>
#include <vector>

#include "chunk/chunker.hpp"
#include "crypto/hash.hpp"
#include "repo/repository.hpp"

namespace bkp::engine {

struct StoredContent {
  std::vector<repo::BlobId> chunks;
  std::uint64_t size = 0;
  std::optional<crypto::Digest> sha256;  // when requested
};

enum class Checksum { no, sha256 };

// `on_bytes` is told how many bytes were just consumed (for progress).
util::Result<StoredContent> store_stream(repo::Repository& repo, const chunk::ReadFn& read,
                                         Checksum checksum,
                                         const std::function<void(std::size_t)>& on_bytes = {});

// Loads each chunk in order and hands it to `write`.
util::Status load_content(repo::Repository& repo, const std::vector<repo::BlobId>& chunks,
                          const std::function<util::Status(util::ByteView)>& write);

}  // namespace bkp::engine
