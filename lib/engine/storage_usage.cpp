#include "engine/storage_usage.hpp"

#include <ctime>

#include "util/time.hpp"

namespace bkp::engine {

using util::ErrorKind;
using util::fail;

std::string object_type(std::string_view name) {
  auto slash = name.find('/');
  if (slash == std::string_view::npos) return name == "config" ? "config" : "other";
  auto top = name.substr(0, slash);
  if (top == "data") return "packs";
  for (std::string_view known : {"index", "snapshots", "keys", "keyring", "sessions", "audit",
                                 "wal", "holds", "prune", "forgotten"}) {
    if (top == known) return std::string(known);
  }
  return "other";
}

util::Result<StorageUsage> storage_usage(storage::Backend& backend) {
  StorageUsage u;
  BKP_TRY(backend.list("", [&](const storage::ObjectInfo& o) {
    auto& c = u.by_type[object_type(o.name)];
    ++c.objects;
    c.bytes += o.size;
    ++u.total.objects;
    u.total.bytes += o.size;
    return util::Status{};
  }));
  return u;
}

util::Result<Period> parse_period(std::string_view text) {
  if (text == "day") return Period::day;
  if (text == "week") return Period::week;
  if (text == "month") return Period::month;
  return fail(ErrorKind::usage, "'" + std::string(text) + "' is not a period: day, week or month");
}

namespace {

std::string period_of(const std::string& rfc3339, Period period) {
  auto ns = util::parse_rfc3339(rfc3339);
  if (!ns) return "unknown";
  std::time_t t = static_cast<std::time_t>(*ns / 1000000000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  // ISO 8601 weeks (Monday first), as the retention rules count them.
  const char* fmt = period == Period::day    ? "%Y-%m-%d"
                    : period == Period::week ? "%G-W%V"
                                             : "%Y-%m";
  std::strftime(buf, sizeof buf, fmt, &tm);
  return buf;
}

}  // namespace

std::vector<GrowthRow> backup_growth(const std::vector<catalog::BackupRow>& rows, Period period) {
  std::map<std::string, GrowthRow> by;
  for (auto& r : rows) {
    if (r.status != "completed" && r.status != "partial") continue;
    auto key = period_of(r.created_at, period);
    auto& g = by[key];
    g.period = key;
    ++g.backups;
    g.source_bytes += static_cast<std::uint64_t>(std::max<std::int64_t>(r.size_bytes, 0));
    g.stored_bytes +=
        static_cast<std::uint64_t>(std::max<std::int64_t>(r.compressed_size_bytes, 0));
  }
  std::vector<GrowthRow> out;
  std::uint64_t total = 0;
  for (auto& [k, g] : by) {
    total += g.stored_bytes;
    g.stored_total = total;
    out.push_back(g);
  }
  return out;
}

}  // namespace bkp::engine
