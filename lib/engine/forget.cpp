// Explicit removal of snapshots: their manifests go at once; the data they
// alone referenced stays until prune collects it.
#include <set>

#include "engine/prune.hpp"

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
    BKP_TRY(repo.backend().remove("snapshots/" + id));
    auto st = repo.catalog().delete_backup(id);
    if (!st && st.error().kind != ErrorKind::not_found) return st.propagate();
  }
  return result;
}

}  // namespace bkp::engine
