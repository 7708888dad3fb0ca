// Verification: structure (every snapshot, tree and referenced blob is
// there; the index agrees with storage) and, with read-data, every byte of
// the chosen packs downloaded, hashed, decrypted, decompressed and checked
// against its id. Problems name what is damaged and which snapshots suffer.
#pragma once

#include <functional>
#include <set>
#include <string>
#include <vector>

#include "repo/repository.hpp"

namespace bkp::engine {

enum class ReadData { none, all, subset };

struct VerifyOptions {
  std::vector<std::string> snapshot_ids;  // empty: every snapshot
  ReadData read_data = ReadData::none;
  // For ReadData::subset: either a percentage, or part n of m.
  double percent = 0;
  unsigned part_n = 0, part_m = 0;
  // Bytes of a pack read at once (rounded to whole blobs); tests make it
  // small so that a pack takes many windows.
  std::uint64_t read_window = 4 << 20;
};

// Parses "N%" or "n/m" for --read-data-subset (usage error otherwise).
util::Status parse_subset(std::string_view text, VerifyOptions& options);

struct VerifyReport {
  std::vector<std::string> problems;  // each one line, what is damaged
  std::vector<std::string> notes;     // not damage (unreferenced packs)
  std::set<std::string> damaged_snapshots;
  std::uint64_t snapshots = 0, trees = 0, blobs_referenced = 0;
  std::uint64_t packs = 0, packs_read = 0, blobs_read = 0, bytes_read = 0;
  std::uint64_t wal_segments = 0;  // archived, when physical PostgreSQL backups were checked
  bool ok() const { return problems.empty(); }
};

using VerifyProgressFn = std::function<void(std::uint64_t bytes_read, std::uint64_t packs_read)>;

util::Result<VerifyReport> verify_repository(repo::Repository& repo, const VerifyOptions& options,
                                             const VerifyProgressFn& progress = {});

}  // namespace bkp::engine
