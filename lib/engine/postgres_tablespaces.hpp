// Tablespaces outside the data directory in physical PostgreSQL backups.
// A base backup reads each tablespace's directory as one more root of the
// snapshot (pg_tblspc/<oid> stays the symlink it is) and lists them in the
// snapshot's extra; a restore lays each one down in a new place (by default
// <target>/bkp_tablespaces/<oid>, or where --tablespace-map says), points
// pg_tblspc/<oid> at it and writes a tablespace_map that says the same, so
// recovery finds them there.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "repo/repository.hpp"
#include "sources/postgres/session.hpp"

namespace bkp::engine {

class RecoveryJob;

struct PgTablespace {
  std::string oid, name, location;
};

// The tablespaces of the server other than pg_default and pg_global, with
// their directories (pg_tablespace_location).
util::Result<std::vector<PgTablespace>> list_tablespaces(sources::postgres::Session& session);
nlohmann::json tablespaces_to_json(const std::vector<PgTablespace>& spaces);
std::vector<PgTablespace> tablespaces_of(const repo::Snapshot& snap);

// One --tablespace-map OLD=NEW: OLD is a tablespace's original directory
// or its name; NEW an absolute path, new or empty.
struct PgTablespaceMapping {
  std::string old_dir;
  std::filesystem::path new_dir;
};
util::Result<PgTablespaceMapping> parse_tablespace_mapping(std::string_view text);

struct PgTablespacePlace {
  PgTablespace space;
  std::filesystem::path dir;  // where it is restored
};
// Where each tablespace of `snap` goes when its data directory is restored
// to `target`. Fails when a mapping names no tablespace of the snapshot, or
// a place is not new or empty, or two tablespaces would share one.
util::Result<std::vector<PgTablespacePlace>> place_tablespaces(
    const repo::Snapshot& snap, const std::filesystem::path& target,
    const std::vector<PgTablespaceMapping>& mappings);

// Restores each tablespace into its place, owned like the data directory
// (uid, gid), replaces the pg_tblspc/<oid> symlinks of `target` and returns
// the content of the tablespace_map to write there.
util::Result<std::string> restore_tablespaces(repo::Repository& repo, const repo::Snapshot& snap,
                                              const std::filesystem::path& target,
                                              const std::vector<PgTablespacePlace>& places,
                                              RecoveryJob& job, std::uint32_t uid,
                                              std::uint32_t gid);

}  // namespace bkp::engine
