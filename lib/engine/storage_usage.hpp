// bkp storage usage: what a repository occupies in its storage, by object
// type, from one listing (no object is read, so no key is needed for it);
// and how backups grew over time, from the catalog's backups rows.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "catalog/catalog.hpp"
#include "storage/backend.hpp"

namespace bkp::engine {

struct UsageCount {
  std::uint64_t objects = 0, bytes = 0;
};

struct StorageUsage {
  // By type: packs, index, snapshots, keys, keyring, sessions, audit, wal,
  // holds, prune, config, other.
  std::map<std::string, UsageCount> by_type;
  UsageCount total;
};

// The type an object name belongs to ("data/ab/..." is a pack).
std::string object_type(std::string_view name);
util::Result<StorageUsage> storage_usage(storage::Backend& backend);

enum class Period { day, week, month };
util::Result<Period> parse_period(std::string_view text);

struct GrowthRow {
  std::string period;  // 2026-11-27, 2026-W48 or 2026-11
  std::uint64_t backups = 0;
  std::uint64_t source_bytes = 0;  // what the backups read (size_bytes)
  std::uint64_t stored_bytes = 0;  // what they added to storage (compressed_size_bytes)
  std::uint64_t stored_total = 0;  // running sum of stored_bytes up to this period
};

// Oldest period first; backups that did not complete are left out.
std::vector<GrowthRow> backup_growth(const std::vector<catalog::BackupRow>& rows, Period period);

}  // namespace bkp::engine
