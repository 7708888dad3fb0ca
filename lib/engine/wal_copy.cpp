#include "engine/wal_copy.hpp"

#include <algorithm>
#include <set>

#include "engine/backup.hpp"
#include "engine/wal.hpp"
#include "engine/wal_retention.hpp"

namespace bkp::engine {

namespace {

// A batch of files is stored, flushed once, then their entries written:
// one pack and index segment per batch rather than per 16 MiB segment.
constexpr std::uint64_t kBatchBytes = 256ULL << 20;

util::Result<std::set<std::string>> wal_objects(repo::Repository& repo) {
  std::set<std::string> out;
  BKP_TRY(repo.backend().list(repo::wal_prefix, [&](const storage::ObjectInfo& o) {
    out.insert(o.name);
    return util::Status{};
  }));
  return out;
}

// The snapshots (as far as WAL retention looks at them: kind and extra)
// of the catalog rows of `repo`, only those in `ids` when given.
util::Result<std::vector<repo::Snapshot>> base_backups(repo::Repository& repo,
                                                       const std::set<std::string>* ids) {
  BKP_ASSIGN(auto rows, repo.catalog().list_backups());
  std::vector<repo::Snapshot> out;
  for (auto& row : rows) {
    if (ids && !ids->count(row.id)) continue;
    auto meta = nlohmann::json::parse(row.metadata, nullptr, false);
    if (!meta.is_object()) continue;
    repo::Snapshot s;
    s.id = row.id;
    s.source_kind = meta.value("source_kind", "");
    if (meta.contains("extra") && meta["extra"].is_object()) s.extra = meta["extra"];
    out.push_back(std::move(s));
  }
  return out;
}

struct Pending {
  std::string object;
  repo::WalEntry entry;
  std::vector<repo::BlobId> chunks;
};

util::Status publish(repo::Repository& target, std::vector<Pending>& batch) {
  if (batch.empty()) return {};
  // Chunks durable and indexed before any entry names them.
  BKP_TRY(target.flush());
  for (auto& p : batch) {
    auto st = publish_wal_entry(target, p.object, std::move(p.entry), p.chunks);
    if (!st) return util::fail(st.error().context("copying WAL entry '" + p.object + "'"));
  }
  batch.clear();
  return {};
}

}  // namespace

util::Result<WalCopyReport> copy_wal(repo::Repository& source, repo::Repository& target,
                                     const std::vector<std::string>& incoming, bool dry_run) {
  BKP_TRY(source.may_read("copy its WAL archive"));
  WalCopyReport report;
  BKP_ASSIGN(auto in_source, wal_objects(source));
  if (in_source.empty()) return report;
  BKP_ASSIGN(auto in_target, wal_objects(target));

  WalObjects wanted;
  for (auto& object : in_source) {
    if (in_target.count(object)) {
      ++report.present;
      continue;
    }
    repo::WalEntry named;
    named.name = object.substr(object.rfind('/') + 1);
    wanted.emplace_back(object, std::move(named));
  }
  // The base backups the target will hold: its own and those arriving now.
  std::set<std::string> arriving(incoming.begin(), incoming.end());
  BKP_ASSIGN(auto own, base_backups(target, nullptr));
  BKP_ASSIGN(auto more, base_backups(source, &arriving));
  own.insert(own.end(), more.begin(), more.end());
  std::vector<const repo::Snapshot*> kept;
  for (auto& s : own) kept.push_back(&s);
  // Timeline histories are read from the source: the target may not have
  // them yet.
  BKP_ASSIGN(auto unneeded, unneeded_wal(source, wanted, kept));

  const repo::WriteStats before = target.write_stats();
  std::vector<Pending> batch;
  std::uint64_t batch_bytes = 0;
  for (auto& [object, named] : wanted) {
    if (unneeded.count(object)) {
      ++report.unneeded;
      continue;
    }
    if (dry_run) {
      report.copied.push_back(named.name);
      continue;
    }
    BKP_ASSIGN(auto entry, load_wal_entry(source, object));
    if (!entry) continue;  // removed by a prune since the listing
    if (entry->name != named.name) {
      return util::fail(util::ErrorKind::verification,
                        "WAL entry '" + object + "' names '" + entry->name + "'");
    }
    BKP_ASSIGN(auto data, read_wal_content(source, *entry));
    BKP_ASSIGN(auto stored, store_wal_data(target, data));
    report.copied.push_back(entry->name);
    report.bytes += entry->size;
    batch_bytes += entry->size;
    batch.push_back({object, std::move(*entry), std::move(stored.chunks)});
    if (batch_bytes >= kBatchBytes) {
      BKP_TRY(publish(target, batch));
      batch_bytes = 0;
    }
  }
  BKP_TRY(publish(target, batch));
  report.stored_bytes_new = written_since(before, target.write_stats()).stored_bytes_new;
  return report;
}

}  // namespace bkp::engine
