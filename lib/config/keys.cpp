#include "config/keys.hpp"

#include <array>

namespace bkp::config {

namespace {

using enum ValueType;

// Keep sorted by key; docs and `config show` print in this order.
constexpr std::array<KeyInfo, 9> kKeys{{
    {"catalog", "BKP_CATALOG", "", path, "",
     "SQLite catalog file (default: $XDG_STATE_HOME/bkp/<repository id>.db, "
     "else /var/lib/bkp/ for root, ~/.local/state/bkp/ for others)"},
    {"compression", "BKP_COMPRESSION", "BACKUP_COMPRESSION_ENABLED", string, "zstd",
     "chunk compression for new repositories: zstd, zstd:LEVEL, lz4 or none "
     "(BACKUP_COMPRESSION_ENABLED=false means none)"},
    {"encryption.algorithm", "BKP_ENCRYPTION_ALGORITHM", "ENCRYPTION_ALGORITHM", string,
     "aes-256-gcm", "object encryption; aes-256-gcm is the only algorithm"},
    {"key_command", "BKP_KEY_COMMAND", "", string, "",
     "command (run without a shell) whose standard output is a key that opens the repository"},
    {"key_file", "BKP_KEY_FILE", "", path, "",
     "key file that opens the repository instead of a passphrase (see bkp init --key-file)"},
    {"password_command", "BKP_PASSWORD_COMMAND", "", string, "",
     "command whose standard output is the repository passphrase"},
    {"password_file", "BKP_PASSWORD_FILE", "", path, "",
     "file whose first line is the repository passphrase"},
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
