// The check that makes point-in-time recovery trustworthy: for every
// physical PostgreSQL base backup, the archived WAL must run without a gap
// from the backup's start segment to the newest archived segment, following
// timeline switches named by .history files. A gap is damage: recovery
// stops at it.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "repo/repository.hpp"

namespace bkp::engine {

// One line of "<tli>.history": timeline `parent` ended at `lsn`. The file
// lists every ancestor, oldest first; the last line is the direct parent.
struct TimelineSwitch {
  std::uint32_t parent = 0;
  std::uint64_t lsn = 0;
};
std::vector<TimelineSwitch> parse_timeline_history(const util::Bytes& data);

struct WalContinuityReport {
  std::vector<std::string> problems;        // one line per gap, naming the missing segments
  std::set<std::string> damaged_snapshots;  // base backups whose start..stop WAL is incomplete
  std::uint64_t segments = 0, base_backups = 0;
};

// `snapshot_ids`: the snapshots being verified; those that are not physical
// PostgreSQL backups are ignored (no WAL listing without one).
util::Result<WalContinuityReport> check_wal_continuity(
    repo::Repository& repo, const std::vector<std::string>& snapshot_ids);

}  // namespace bkp::engine
