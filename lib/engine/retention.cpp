#include "engine/retention.hpp"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <map>
#include <numeric>

#include "repo/hold.hpp"
#include "util/time.hpp"

namespace bkp::engine {

using util::ErrorKind;
using util::fail;

namespace {

constexpr std::int64_t kSecond = 1'000'000'000;

std::tm utc(std::int64_t ns) {
  std::time_t t = static_cast<std::time_t>(ns / kSecond - (ns % kSecond < 0 ? 1 : 0));
  std::tm tm{};
  gmtime_r(&t, &tm);
  return tm;
}

// The bucket a snapshot falls in for each calendar rule; equal keys share
// a bucket. Weeks are ISO 8601 weeks (Monday first), as restic does.
std::int64_t bucket(std::int64_t ns, char rule) {
  std::tm tm = utc(ns);
  std::int64_t year = tm.tm_year + 1900;
  switch (rule) {
    case 'h':
      return ((year * 1000 + tm.tm_yday) * 100) + tm.tm_hour;
    case 'd':
      return year * 1000 + tm.tm_yday;
    case 'w': {
      char buf[16];
      std::strftime(buf, sizeof buf, "%G%V", &tm);
      return std::stoll(buf);
    }
    case 'm':
      return year * 100 + tm.tm_mon;
    default:
      return year;
  }
}

}  // namespace

std::vector<PolicyDecision> apply_retention(const std::vector<PolicyInput>& snapshots,
                                            const RetentionPolicy& policy) {
  std::vector<PolicyDecision> out(snapshots.size());
  std::map<std::string, std::vector<std::size_t>> groups;
  for (std::size_t i = 0; i < snapshots.size(); ++i) {
    out[i].id = snapshots[i].id;
    out[i].group = snapshots[i].group;
    groups[snapshots[i].group].push_back(i);
  }
  for (auto& [group, members] : groups) {
    // Newest first; ties broken by id so the result does not depend on input order.
    std::sort(members.begin(), members.end(), [&](std::size_t a, std::size_t b) {
      if (snapshots[a].time_ns != snapshots[b].time_ns)
        return snapshots[a].time_ns > snapshots[b].time_ns;
      return snapshots[a].id > snapshots[b].id;
    });
    std::int64_t newest = snapshots[members.front()].time_ns;
    struct Rule {
      char key;
      unsigned count;
      const char* name;
    };
    const Rule rules[] = {{'h', policy.hourly, "hourly"},
                          {'d', policy.daily, "daily"},
                          {'w', policy.weekly, "weekly"},
                          {'m', policy.monthly, "monthly"},
                          {'y', policy.yearly, "yearly"}};
    unsigned remaining[5];
    std::int64_t last_bucket[5];
    for (int r = 0; r < 5; ++r) {
      remaining[r] = rules[r].count;
      last_bucket[r] = INT64_MIN;
    }
    for (std::size_t rank = 0; rank < members.size(); ++rank) {
      auto i = members[rank];
      auto& s = snapshots[i];
      auto& d = out[i];
      if (policy.empty()) d.reasons.push_back("no policy");
      if (s.held) {
        d.reasons.push_back("hold");
        d.retention_until = std::string(repo::kHeldUntil);
      }
      if (rank < policy.last) d.reasons.push_back("last");
      // The newest snapshot of each bucket, for the most recent N buckets.
      for (int r = 0; r < 5; ++r) {
        if (!remaining[r]) continue;
        auto b = bucket(s.time_ns, rules[r].key);
        if (b == last_bucket[r]) continue;
        last_bucket[r] = b;
        --remaining[r];
        d.reasons.push_back(rules[r].name);
      }
      if (policy.within_ns && s.time_ns >= newest - policy.within_ns) {
        d.reasons.push_back("within");
        if (d.retention_until.empty())
          d.retention_until = util::format_rfc3339(s.time_ns + policy.within_ns);
      }
      for (auto& t : policy.tags) {
        if (std::find(s.tags.begin(), s.tags.end(), t) != s.tags.end()) {
          d.reasons.push_back("tag");
          break;
        }
      }
      d.keep = !d.reasons.empty();
    }
  }
  return out;
}

util::Result<std::int64_t> parse_duration(std::string_view text) {
  auto bad = [&] {
    return fail(ErrorKind::usage, "'" + std::string(text) +
                                      "' is not a duration (examples: 90d, 12h, 2w, 1y, 1d12h)");
  };
  if (text.empty()) return bad();
  std::int64_t total = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t start = i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
    if (i == start || i == text.size() || i - start > 9) return bad();
    std::int64_t n = std::stoll(std::string(text.substr(start, i - start)));
    std::int64_t unit = 0;
    switch (text[i]) {
      case 's':
        unit = 1;
        break;
      case 'm':
        unit = 60;
        break;
      case 'h':
        unit = 3600;
        break;
      case 'd':
        unit = 86400;
        break;
      case 'w':
        unit = 7 * 86400;
        break;
      case 'y':
        unit = 365 * 86400;
        break;
      default:
        return bad();
    }
    ++i;
    total += n * unit * kSecond;
  }
  return total;
}

util::Result<std::uint64_t> parse_size(std::string_view text) {
  auto bad = [&] {
    return fail(ErrorKind::usage,
                "'" + std::string(text) + "' is not a size (examples: 1024, 500M, 2G, 10KiB)");
  };
  std::size_t i = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
  if (i == 0 || i > 15) return bad();
  std::uint64_t n = std::stoull(std::string(text.substr(0, i)));
  auto unit = std::string(text.substr(i));
  if (unit.size() > 1 && (unit.substr(1) == "iB" || unit.substr(1) == "B"))
    unit = unit.substr(0, 1);
  std::uint64_t mult = 1;
  if (unit.empty() || unit == "B")
    mult = 1;
  else if (unit == "K" || unit == "k")
    mult = 1ull << 10;
  else if (unit == "M")
    mult = 1ull << 20;
  else if (unit == "G")
    mult = 1ull << 30;
  else if (unit == "T")
    mult = 1ull << 40;
  else
    return bad();
  return n * mult;
}

}  // namespace bkp::engine
