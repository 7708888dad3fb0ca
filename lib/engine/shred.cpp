#include "engine/shred.hpp"

#include <algorithm>
#include <set>

#include "repo/wal_entry.hpp"

namespace bkp::engine {

using util::ErrorKind;
using util::fail;

nlohmann::json ShredPlan::to_json() const {
  nlohmann::json snaps = nlohmann::json::array();
  for (auto& s : snapshots) snaps.push_back({{"id", s.id}, {"time", s.time}, {"source", s.source}});
  return {{"domain", domain}, {"key", util::to_hex(key)}, {"snapshots", snaps}, {"wal", wal}};
}

util::Result<ShredPlan> plan_shred(repo::Repository& repo, const std::string& domain) {
  BKP_TRY(repo.may_manage_keys());
  BKP_TRY(repo.may_delete());
  ShredPlan plan;
  plan.domain = domain;
  auto& ring = repo.keyring();
  if (auto* d = ring.find_domain(domain)) {
    plan.key = d->data_key;
  } else {
    auto s = std::find_if(ring.shredded.begin(), ring.shredded.end(),
                          [&](const repo::ShreddedDomain& x) { return x.name == domain; });
    if (s == ring.shredded.end()) {
      return fail(ErrorKind::not_found, "no key domain '" + domain + "' (see bkp keys list)");
    }
    plan.key = s->data_key;
    plan.already_shredded = true;
  }
  // From storage, not the catalog: other hosts' snapshots count too.
  std::vector<std::string> names;
  BKP_TRY(repo.backend().list("snapshots/", [&](const storage::ObjectInfo& o) {
    names.push_back(o.name);
    return util::Status{};
  }));
  for (auto& name : names) {
    auto sealed = repo.backend().get(name);
    if (!sealed && sealed.error().kind == ErrorKind::not_found) continue;
    if (!sealed) return sealed.propagate();
    auto header = repo::peek_envelope(*sealed);
    if (!header || header->key_id != plan.key) continue;
    ShreddedSnapshot s;
    s.id = name.substr(std::string_view("snapshots/").size());
    if (!plan.already_shredded) {
      BKP_ASSIGN(auto snap, repo.load_snapshot(s.id));
      s.time = snap.time;
      s.source = snap.source_name;
    }
    plan.snapshots.push_back(std::move(s));
  }
  // WAL entries by their envelope's key id alone: after a shred killed
  // half-way they no longer open.
  std::vector<std::string> wal;
  BKP_TRY(repo.backend().list(repo::wal_prefix, [&](const storage::ObjectInfo& o) {
    wal.push_back(o.name);
    return util::Status{};
  }));
  for (auto& name : wal) {
    auto sealed = repo.backend().get(name);
    if (!sealed && sealed.error().kind == ErrorKind::not_found) continue;
    if (!sealed) return sealed.propagate();
    auto header = repo::peek_envelope(*sealed);
    if (header && header->key_id == plan.key) plan.wal.push_back(name);
  }
  BKP_ASSIGN(auto holds, repo.list_holds());
  for (auto& h : holds) {
    for (auto& s : plan.snapshots) {
      if (h.snapshot == s.id) {
        return fail(ErrorKind::permission,
                    "snapshot '" + s.id + "' of key domain '" + domain +
                        "' is under a legal hold: nothing was shredded (bkp release removes "
                        "the hold)");
      }
    }
  }
  return plan;
}

util::Status shred(repo::Repository& repo, const ShredPlan& plan) {
  BKP_TRY(repo.shred_key_domain(plan.domain));
  std::vector<std::string> ids;
  for (auto& s : plan.snapshots) ids.push_back(s.id);
  BKP_TRY(forget_snapshots(repo, ids, DryRun::no));
  for (auto& name : plan.wal) {
    auto st = repo.backend().remove(name);
    if (!st && st.error().kind != ErrorKind::not_found) return st;
  }
  return {};
}

}  // namespace bkp::engine
