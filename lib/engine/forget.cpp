// Explicit removal of snapshots: their manifests go at once; the data they
// alone referenced stays until prune collects it. Each removal leaves a
// forget record (repo/forget_record.hpp) so that copies and replicas know
// it was on purpose.
#include <set>

#include "engine/prune.hpp"
#include "repo/envelope.hpp"
#include "repo/forget_record.hpp"
#include "util/host.hpp"
#include "util/time.hpp"

namespace bkp::engine {

using util::ErrorKind;
using util::fail;

util::Result<ForgetResult> forget_snapshots(repo::Repository& repo,
                                            const std::vector<std::string>& ids, DryRun dry_run) {
  BKP_TRY(repo.may_delete());
  BKP_ASSIGN(auto holds, repo.list_holds());
  std::set<std::string> held;
  for (auto& h : holds) held.insert(h.snapshot);
  // All checks before the first removal: a refused request changes nothing.
  for (auto& id : ids) {
    if (held.count(id)) {
      return fail(ErrorKind::permission, "snapshot '" + id +
                                             "' is under a legal hold and cannot be forgotten "
                                             "(bkp release removes the hold)");
    }
  }
  ForgetResult result;
  std::set<std::string> done;
  for (auto& id : ids) {
    if (!done.insert(id).second) continue;
    result.removed.push_back(id);
    if (dry_run == DryRun::yes) continue;
    // The record first: a crash between the two leaves the snapshot, and
    // forgetting it again finishes the job.
    repo::ForgetRecord record{id, util::now_rfc3339(), util::host_name()};
    auto& key = repo.keyring().current_key();
    auto name = record.object_name();
    BKP_TRY(repo.backend().put(name,
                               repo::seal_object(repo::ObjectType::forget_record, key.id, key.key,
                                                 record.encode(), util::as_bytes(name)),
                               storage::WriteMode::overwrite));
    BKP_TRY(repo.backend().remove("snapshots/" + id));
    auto st = repo.catalog().delete_backup(id);
    if (!st && st.error().kind != ErrorKind::not_found) return st.propagate();
  }
  return result;
}

util::Result<std::set<std::string>> forgotten_names(repo::Repository& repo) {
  std::set<std::string> out;
  const auto prefix = repo::forget_record_prefix;
  BKP_TRY(repo.backend().list(prefix, [&](const storage::ObjectInfo& o) {
    if (o.name.size() == prefix.size() + 64) out.insert(o.name.substr(prefix.size()));
    return util::Status{};
  }));
  return out;
}

util::Result<std::set<std::string>> forgotten_snapshots(repo::Repository& repo) {
  BKP_ASSIGN(auto names, forgotten_names(repo));
  std::set<std::string> out;
  for (auto& id : names) {
    auto name = std::string(repo::forget_record_prefix) + id;
    auto plain = repo.load_object(repo::ObjectType::forget_record, name);
    if (!plain && plain.error().kind == ErrorKind::not_found) continue;
    if (!plain) return fail(plain.error().context("reading forget record '" + name + "'"));
    BKP_ASSIGN(auto record, repo::ForgetRecord::decode(*plain));
    if (record.snapshot != id) {
      return fail(ErrorKind::verification, "forget record '" + name + "' names another snapshot");
    }
    out.insert(id);
  }
  return out;
}

}  // namespace bkp::engine
