// WAL archiving for PostgreSQL's archive_command and restore_command. Each
// file is chunked into ordinary data blobs (compressed, encrypted,
// deduplicated) and named by a small sealed entry "wal/<timeline>/<name>"
// (repo/wal_entry.hpp). Neither direction syncs or scans the catalog: they
// run once per 16 MiB segment, thousands of times an hour.
#pragma once

#include <filesystem>
#include <string>

#include "engine/content.hpp"
#include "repo/repository.hpp"
#include "repo/wal_entry.hpp"

namespace bkp::engine {

struct WalPushReport {
  std::string name, object;
  std::uint64_t size = 0;
  bool already_archived = false;  // the same content was there: nothing written
  std::uint64_t stored_bytes_new = 0;
};

// Archives the file at `path` under its file name. The same content pushed
// again succeeds without writing; different content under an archived name
// is an ErrorKind::exists error (PostgreSQL then retries and reports it).
util::Result<WalPushReport> wal_push(repo::Repository& repo, const std::filesystem::path& path);

struct WalFetchReport {
  std::string name;
  std::uint64_t size = 0;
};

// Writes the archived file `name` to `dest` (through a temporary name in the
// same directory, checked against its SHA-256, then renamed). A file that
// was never archived is ErrorKind::not_found.
util::Result<WalFetchReport> wal_fetch(repo::Repository& repo, const std::string& name,
                                       const std::filesystem::path& dest);

// The content of a small archived file (a .history file) in memory,
// checked against its SHA-256. ErrorKind::not_found when never archived.
util::Result<util::Bytes> wal_read(repo::Repository& repo, const std::string& name);

// Loads the entry for `name`; nullopt when it is not archived.
util::Result<std::optional<repo::WalEntry>> load_wal_entry(repo::Repository& repo,
                                                           const std::string& object);

// The content of an archived file, read from where its entry says its
// chunks are and checked against its size and SHA-256.
util::Result<util::Bytes> read_wal_content(repo::Repository& repo, const repo::WalEntry& entry);

// wal_push in two steps, so that a copy of many files (bkp copy) flushes
// once for a batch: store the content's chunks, then, after repo.flush(),
// write the entry (create-only) naming where they are. `entry` carries name,
// size, SHA-256, pushed and hostname; its chunks are filled in. Returns
// false when an entry with the same content was there already; an entry
// with other content is ErrorKind::exists.
util::Result<StoredContent> store_wal_data(repo::Repository& repo, util::ByteView data);
util::Result<bool> publish_wal_entry(repo::Repository& repo, const std::string& object,
                                     repo::WalEntry entry, const std::vector<repo::BlobId>& chunks);

}  // namespace bkp::engine
