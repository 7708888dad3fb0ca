#include "config/keys.hpp"

#include <array>

namespace bkp::config {

namespace {

using enum ValueType;

// Keep sorted by key; docs and `config show` print in this order.
constexpr std::array<KeyInfo, 15> kKeys{{
    {"catalog", "BKP_CATALOG", "", path, "",
     "SQLite catalog file (default: $XDG_STATE_HOME/bkp/<repository id>.db, "
     "else /var/lib/bkp/ for root, ~/.local/state/bkp/ for others)"},
    {"compression", "BKP_COMPRESSION", "BACKUP_COMPRESSION_ENABLED", string, "zstd",
     "chunk compression for new repositories: zstd, zstd:LEVEL, lz4 or none "
     "(BACKUP_COMPRESSION_ENABLED=false means none)"},
    {"encryption.algorithm", "BKP_ENCRYPTION_ALGORITHM", "ENCRYPTION_ALGORITHM", string,
     "aes-256-gcm", "object encryption; aes-256-gcm is the only algorithm"},
    {"key_file", "BKP_KEY_FILE", "", path, "",
     "key file that opens the repository instead of a passphrase (see bkp init --key-file)"},
    {"password_command", "BKP_PASSWORD_COMMAND", "", string, "",
     "command whose standard output is the repository passphrase"},
    {"password_file", "BKP_PASSWORD_FILE", "", path, "",
     "file whose first line is the repository passphrase"},
    {"postgres.bin_dir", "BKP_PG_BIN_DIR", "", path, "",
     "directory of the PostgreSQL client programs (psql, pg_dump, pg_restore); "
     "default: $PATH"},
    {"postgres.database", "BKP_PG_DATABASE", "DB_NAME", string, "",
     "PostgreSQL database (default: libpq's PGDATABASE, else the user name)"},
    {"postgres.host", "BKP_PG_HOST", "DB_HOST", string, "",
     "PostgreSQL host name or socket directory (default: libpq's PGHOST, else the local socket)"},
    {"postgres.password", "BKP_PG_PASSWORD", "DB_PASSWORD", string, "",
     "PostgreSQL password, handed to the client programs in their environment, never on a "
     "command line; prefer postgres.password_file",
     Sensitivity::secret},
    {"postgres.password_file", "BKP_PG_PASSWORD_FILE", "", path, "",
     "file whose first line is the PostgreSQL password (wins over postgres.password)"},
    {"postgres.port", "BKP_PG_PORT", "DB_PORT", integer, "",
     "PostgreSQL port (default: libpq's PGPORT, else 5432)"},
    {"postgres.user", "BKP_PG_USER", "DB_USER", string, "",
     "PostgreSQL user name (default: libpq's PGUSER, else the login name)"},
    {"progress", "BKP_PROGRESS", "", boolean, "true",
     "show progress bars when standard error is a terminal"},
    {"repository", "BKP_REPOSITORY", "", string, "",
     "repository location: a path or file:///path"},
}};

}  // namespace

std::span<const KeyInfo> all_keys() { return kKeys; }

const KeyInfo* find_key(std::string_view key) {
  for (auto& k : kKeys)
    if (k.key == key) return &k;
  return nullptr;
}

std::string_view type_name(ValueType t) {
  switch (t) {
    case string: return "string";
    case integer: return "integer";
    case boolean: return "boolean";
    case duration: return "duration";
    case path: return "path";
    case list: return "list";
  }
  return "string";
}

}  // namespace bkp::config
