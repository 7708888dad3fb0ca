#include "engine/wal_continuity.hpp"

#include <map>
#include <sstream>

#include "engine/postgres_physical.hpp"
#include "engine/postgres_pitr.hpp"
#include "engine/wal.hpp"

namespace bkp::engine {

using util::ErrorKind;
using util::fail;

std::vector<TimelineSwitch> parse_timeline_history(const util::Bytes& data) {
  std::istringstream in(std::string(data.begin(), data.end()));
  std::vector<TimelineSwitch> out;
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string tli, lsn;
    if (!(fields >> tli >> lsn)) continue;
    auto at = parse_lsn(lsn);
    if (!at) continue;
    out.push_back({std::uint32_t(std::strtoul(tli.c_str(), nullptr, 10)), *at});
  }
  return out;
}

util::Result<WalContinuityReport> check_wal_continuity(repo::Repository& repo,
                                                       const std::vector<std::string>& ids) {
  WalContinuityReport report;
  std::vector<repo::Snapshot> bases;
  for (auto& id : ids) {
    auto snap = repo.load_snapshot(id);
    if (snap && is_pg_physical(*snap)) bases.push_back(std::move(*snap));
  }
  report.base_backups = bases.size();
  if (bases.empty()) return report;

  // What is archived, from the names alone: "wal/<timeline>/<file>".
  std::map<std::uint64_t, std::map<std::uint32_t, std::set<std::uint64_t>>> segments;  // by size
  std::vector<std::string> histories;
  std::set<std::uint64_t> sizes;
  for (auto& b : bases) sizes.insert(b.extra.value("wal_segment_size", std::uint64_t{16} << 20));
  std::vector<std::string> names;
  BKP_TRY(repo.backend().list(repo::wal_prefix, [&](const storage::ObjectInfo& o) -> util::Status {
    auto slash = o.name.rfind('/');
    auto name = o.name.substr(slash + 1);
    if (name.size() == 24) names.push_back(name);
    if (name.ends_with(".history")) histories.push_back(name);
    return {};
  }));
  for (auto size : sizes)
    for (auto& n : names)
      if (auto s = parse_wal_segment(n, size)) segments[size][s->timeline].insert(s->segno);
  report.segments = names.size();

  // Which timeline branched off which, and where.
  std::map<std::uint32_t, TimelineSwitch>
      switches;  // child timeline -> its parent and switch point
  for (auto& h : histories) {
    auto data = wal_read(repo, h);
    if (!data) {
      report.problems.push_back("timeline history '" + h +
                                "' cannot be read: " + data.error().message);
      continue;
    }
    // The last line names the direct parent and the switch point.
    if (auto sw = parse_timeline_history(*data); !sw.empty())
      switches[std::uint32_t(std::strtoul(h.substr(0, 8).c_str(), nullptr, 16))] = sw.back();
  }

  std::set<std::string> reported;
  for (auto& b : bases) {
    const auto size = b.extra.value("wal_segment_size", std::uint64_t{16} << 20);
    auto start = parse_wal_segment(b.extra.value("wal_start", ""), size);
    auto stop = parse_wal_segment(b.extra.value("wal_stop", ""), size);
    if (!start || !stop) {
      report.problems.push_back("snapshot " + b.id.substr(0, 8) +
                                " does not record its WAL range (wal_start, wal_stop)");
      report.damaged_snapshots.insert(b.id);
      continue;
    }
    auto& have = segments[size];
    std::uint32_t tl = start->timeline;
    std::uint64_t from = start->segno;
    std::vector<std::string> missing;
    bool before_consistent = false;  // a segment up to wal_stop is missing
    for (int hops = 0; hops < 1000; ++hops) {
      // The newest timeline that branched off this one after `from`.
      std::optional<std::pair<std::uint32_t, TimelineSwitch>> child;
      for (auto& [t, sw] : switches)
        if (sw.parent == tl && sw.lsn / size >= from && (!child || t > child->first))
          child = std::make_pair(t, sw);
      std::uint64_t end;  // one past the last segment needed on `tl`
      if (child) {
        // The segment holding the switch point is the new timeline's first;
        // on the old one it may be only a .partial file.
        end = child->second.lsn / size;
      } else {
        const auto& on = have[tl];
        end = std::max(from, on.empty() ? from : *on.rbegin()) + 1;
        if (tl == stop->timeline) end = std::max(end, stop->segno + 1);
      }
      const auto& on = have[tl];
      for (auto seg = from; seg < end; ++seg) {
        if (on.count(seg)) continue;
        missing.push_back(wal_segment_name(WalSegment{tl, seg}, size));
        if (tl == stop->timeline && seg <= stop->segno) before_consistent = true;
      }
      if (!child) break;
      tl = child->first;
      from = child->second.lsn / size;
    }
    if (missing.empty()) continue;
    if (before_consistent) report.damaged_snapshots.insert(b.id);
    std::string list;
    std::size_t shown = 0, fresh = 0;
    for (auto& m : missing) {
      if (!reported.insert(m).second) continue;
      ++fresh;
      if (shown++ < 10) list += (list.empty() ? "" : ", ") + m;
    }
    if (fresh == 0 && !before_consistent) continue;
    if (fresh > shown) list += " and " + std::to_string(fresh - 10) + " more";
    report.problems.push_back("WAL archive gap after base backup " + b.id.substr(0, 8) + ": " +
                              std::to_string(missing.size()) + " segment(s) missing" +
                              (list.empty() ? "" : ": " + list) +
                              (before_consistent ? " (the backup itself cannot be restored)"
                                                 : " (recovery from it stops at the gap)"));
  }
  return report;
}

}  // namespace bkp::engine
