// Retention policies (restic's keep-* rules): which snapshots of a group
// (one source on one host) to keep. A pure function of the snapshots'
// times and tags, so it is tested on synthetic timestamps.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace bkp::engine {

struct RetentionPolicy {
  unsigned last = 0, hourly = 0, daily = 0, weekly = 0, monthly = 0, yearly = 0;
  std::int64_t within_ns = 0;     // keep snapshots this close to the group's newest
  std::vector<std::string> tags;  // keep snapshots with any of these tags
  bool empty() const {
    return !last && !hourly && !daily && !weekly && !monthly && !yearly && !within_ns &&
           tags.empty();
  }
};

struct PolicyInput {
  std::string id;
  std::int64_t time_ns = 0;  // snapshot time, ns since the epoch (UTC)
  std::string group;         // source and host: the policy applies per group
  std::vector<std::string> tags;
  bool held = false;  // a legal hold: always kept
};

struct PolicyDecision {
  std::string id;
  std::string group;
  bool keep = false;
  std::vector<std::string> reasons;  // "last", "daily", "within", "tag", "hold"
  // RFC 3339 time before which the policy keeps it (within), "9999-..." when
  // held, empty when only counts keep it (until newer snapshots displace it).
  std::string retention_until;
};

// Decisions in the order of `snapshots`. An empty policy keeps everything.
std::vector<PolicyDecision> apply_retention(const std::vector<PolicyInput>& snapshots,
                                            const RetentionPolicy& policy);

// "90d", "12h", "2w", "1y", "1d12h", "30m", "45s" (y = 365 days); usage error otherwise.
util::Result<std::int64_t> parse_duration(std::string_view text);
// "500M", "2G", "1024", "10KiB" (powers of 1024); usage error otherwise.
util::Result<std::uint64_t> parse_size(std::string_view text);

}  // namespace bkp::engine
