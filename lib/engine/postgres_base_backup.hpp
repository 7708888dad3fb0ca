// Receiving the COPY stream of a BASE_BACKUP (PostgreSQL 15 and later):
// one tar archive per tablespace, announced by an 'n' message, then the
// backup manifest after an 'm'. Each archive is read with libarchive from a
// callback that pulls the next CopyData message, so nothing is held whole,
// in memory or on disk: a regular member's bytes go straight through the
// chunker into the repository and only its metadata and chunk ids stay
// (in a MemberTree). The manifest then proves every file arrived whole.
#pragma once

#include <map>

#include "engine/member_tree.hpp"
#include "sources/postgres/replication.hpp"
#include "util/rate_limit.hpp"

namespace bkp::engine {

struct ReceivedFile {
  std::uint64_t size = 0;
  std::uint32_t crc32c = 0;
};

struct ReceivedBaseBackup {
  std::string backup_label, tablespace_map;  // as the server sent them, not in the tree
  std::string manifest;                      // backup_manifest (JSON), empty when none came
  // Every regular member by its path in the manifest ("base/1/1259",
  // "pg_tblspc/16385/PG_15_.../..."), with what arrived.
  std::map<std::string, ReceivedFile> files;
  std::uint64_t bytes = 0;
};

struct BaseBackupLayout {
  std::filesystem::path data_dir;  // where the main archive's members go
  // A tablespace's location (as BASE_BACKUP names it) and its oid.
  std::map<std::string, std::string> tablespace_oids;
};

// Reads the whole stream into `tree` (data directory members under
// layout.data_dir, a tablespace's under its location), storing contents in
// `repo`. `limit` paces the bytes received (null: none); interrupts stop
// it between messages.
util::Result<ReceivedBaseBackup> receive_base_backup(repo::Repository& repo,
                                                     sources::postgres::ReplicationConnection& rc,
                                                     const BaseBackupLayout& layout,
                                                     MemberTree& tree, util::RateLimiter* limit,
                                                     const ProgressFn& progress);

// Checks `received` against its manifest: every file listed arrived with
// its size (and CRC-32C checksum when the manifest uses that), and nothing
// else did. Errors name the first difference (ErrorKind::verification).
util::Status check_against_manifest(const ReceivedBaseBackup& received);

}  // namespace bkp::engine
