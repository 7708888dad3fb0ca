// A libpq connection in replication mode (replication=database): what a
// base backup taken from another host needs, since BASE_BACKUP streams the
// data directory's files as tar archives inside one COPY OUT. libpqxx has no
// COPY OUT of replication commands, so this is libpq itself. The password
// goes into the connection parameters in memory, never onto a command line.
// Every wait polls the socket, so an interrupt (Ctrl-C) is seen within a
// fraction of a second even while the server is busy with its checkpoint.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sources/postgres/session.hpp"

namespace bkp::sources::postgres {

// One CopyData message of the BASE_BACKUP stream: its type byte ('n' a new
// archive, 'd' archive or manifest data, 'p' progress, 'm' the manifest
// follows) and the rest. `data` stays valid until the next next_message().
struct CopyMessage {
  char type = 0;
  const std::uint8_t* data = nullptr;
  std::size_t size = 0;
};

// A WAL position as BASE_BACKUP reports it: "0/2000028" and its timeline.
struct WalPosition {
  std::string lsn;
  std::uint32_t timeline = 0;
};

struct BaseBackupStart {
  WalPosition start;
  // The tablespaces outside the data directory: oid and location (the
  // data directory itself, NULL in BASE_BACKUP's list, is left out).
  struct Tablespace {
    std::string oid, location;
  };
  std::vector<Tablespace> tablespaces;
};

class ReplicationConnection {
 public:
  // Connects with replication=database (so SHOW, IDENTIFY_SYSTEM and plain
  // SQL all work); a wrong password or a server that is down is an error
  // carrying libpq's own message.
  static util::Result<ReplicationConnection> open(const Connection& conn);

  ReplicationConnection(ReplicationConnection&&) noexcept;
  ReplicationConnection& operator=(ReplicationConnection&&) noexcept;
  ~ReplicationConnection();

  // Runs one command (SQL or a replication command); the rows of its results.
  util::Result<std::vector<Row>> query(const std::string& command);
  // The first column of the first row; an error when there is no row.
  util::Result<std::string> value(const std::string& command);
  // `text` as an SQL string literal.
  std::string quote(const std::string& text) const;

  // Sends `command` (a BASE_BACKUP) and reads its two result sets up to
  // the start of the COPY stream.
  util::Result<BaseBackupStart> start_base_backup(const std::string& command);
  // The next CopyData message; nullopt once the COPY stream has ended.
  util::Result<std::optional<CopyMessage>> next_message();
  // After the COPY stream: the backup's end position (or the server's error).
  util::Result<WalPosition> finish_base_backup();

  const std::string& where() const { return where_; }

 private:
  struct Impl;
  explicit ReplicationConnection(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  std::string where_;
};

}  // namespace bkp::sources::postgres
