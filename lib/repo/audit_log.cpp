#include "repo/audit_log.hpp"

#include <map>

#include "crypto/hash.hpp"
#include "repo/audit_entry.hpp"

namespace bkp::repo {

using catalog::AuditRow;
using util::ErrorKind;
using util::fail;

namespace {

std::string entry_name(const AuditRow& r) {
  return r.seq ? audit_object_name(r.chain, *r.seq) : "pending entry #" + std::to_string(r.id);
}

// Every stored entry, by chain then seq: name only, read on demand.
util::Result<std::map<std::string, std::map<std::int64_t, std::string>>> list_stored(
    storage::Backend& backend, std::vector<std::string>& problems) {
  std::map<std::string, std::map<std::int64_t, std::string>> stored;
  BKP_TRY(backend.list(audit_prefix, [&](const storage::ObjectInfo& o) {
    if (auto parsed = parse_audit_object_name(o.name)) {
      stored[parsed->first][parsed->second] = o.name;
    } else {
      problems.push_back("object '" + o.name + "' is not an audit entry name");
    }
    return util::Status{};
  }));
  return stored;
}

bool same_entry(const AuditRow& a, const AuditRow& b) {
  return a.mac == b.mac && audit_canonical(a) == audit_canonical(b);
}

}  // namespace

util::Result<std::string> local_audit_chain(catalog::Catalog& catalog) {
  BKP_ASSIGN(auto known, catalog.get_meta(audit_chain_meta));
  if (known) return *known;
  auto chain = util::to_hex(crypto::random_bytes(16));
  BKP_TRY(catalog.set_meta(audit_chain_meta, chain));
  return chain;
}

util::Status record_pending_audit(catalog::Catalog& catalog, AuditRow row) {
  return catalog.transaction([&]() -> util::Status {
    BKP_ASSIGN(row.chain, local_audit_chain(catalog));
    row.seq.reset();
    row.keyed = false;
    row.prev_mac.clear();
    row.mac.clear();
    row.mirrored = false;
    BKP_TRY(catalog.insert_audit(row));
    return {};
  });
}

util::Status append_audit(Repository& repo, AuditRow row) {
  auto key = audit_key(repo.keyring());
  auto& cat = repo.catalog();
  BKP_TRY(cat.transaction([&]() -> util::Status {
    BKP_ASSIGN(auto chain, local_audit_chain(cat));
    BKP_ASSIGN(auto head, cat.audit_head(chain));
    std::int64_t seq = head ? *head->seq : 0;
    std::string prev = head ? head->mac : audit_genesis_mac;
    catalog::AuditFilter pending_filter;
    pending_filter.chain = chain;
    pending_filter.pending_only = true;
    BKP_ASSIGN(auto pending, cat.list_audit(pending_filter));
    for (auto& p : pending) {
      p.seq = ++seq;
      p.prev_mac = prev;
      p.mac = audit_mac(key, p);
      BKP_TRY(cat.seal_audit(p.id, *p.seq, p.prev_mac, p.mac));
      prev = p.mac;
    }
    row.chain = chain;
    row.seq = ++seq;
    row.keyed = true;
    row.prev_mac = prev;
    row.mac = audit_mac(key, row);
    row.mirrored = false;
    BKP_TRY(cat.insert_audit(row));
    return {};
  }));
  return mirror_audit(repo);
}

util::Status mirror_audit(Repository& repo) {
  auto key = audit_key(repo.keyring());
  auto& cat = repo.catalog();
  BKP_ASSIGN(auto chain, local_audit_chain(cat));
  catalog::AuditFilter filter;
  filter.chain = chain;
  BKP_ASSIGN(auto rows, cat.list_audit(filter));
  for (auto& r : rows) {
    if (r.mirrored || !r.seq) continue;
    const auto name = audit_object_name(r.chain, *r.seq);
    auto st = repo.backend().put(name, seal_audit_entry(key, r), storage::WriteMode::create_only);
    if (!st && st.error().kind == ErrorKind::exists) {
      // Written by an earlier run that stopped before marking the row; any
      // other content means two catalogs share this chain (a copied file).
      BKP_ASSIGN(auto sealed, repo.backend().get(name));
      auto stored = open_audit_entry(key, sealed, name);
      if (!stored || !same_entry(*stored, r)) {
        return fail(ErrorKind::verification,
                    "audit entry '" + name +
                        "' in storage differs from the catalog's (is this catalog a copy of "
                        "another host's?)");
      }
    } else if (!st) {
      return fail(st.error().context("mirroring audit entry '" + name + "'"));
    }
    BKP_TRY(cat.set_audit_mirrored(r.id));
  }
  return {};
}

util::Result<AuditReport> import_audit(Repository& repo, AuditImport mode) {
  AuditReport report;
  auto key = audit_key(repo.keyring());
  auto& cat = repo.catalog();
  BKP_ASSIGN(auto local, local_audit_chain(cat));
  BKP_ASSIGN(auto stored, list_stored(repo.backend(), report.problems));
  BKP_ASSIGN(auto rows, cat.list_audit());
  std::map<std::string, std::map<std::int64_t, const AuditRow*>> known;
  for (auto& r : rows)
    if (r.seq) known[r.chain][*r.seq] = &r;
  for (auto& [chain, entries] : stored) {
    if (mode == AuditImport::new_only && chain == local) continue;
    auto& have = known[chain];
    const std::int64_t head = have.empty() ? 0 : have.rbegin()->first;
    for (auto& [seq, name] : entries) {
      if (have.count(seq)) continue;
      if (mode == AuditImport::new_only && seq <= head) continue;
      auto sealed = repo.backend().get(name);
      if (!sealed) {
        report.problems.push_back(sealed.error().context("reading '" + name + "'").message);
        continue;
      }
      auto entry = open_audit_entry(key, *sealed, name);
      if (!entry) {
        report.problems.push_back(entry.error().message);
        continue;
      }
      if (audit_mac(key, *entry) != entry->mac) {
        report.problems.push_back("audit entry '" + name + "' fails its MAC (forged or edited)");
        continue;
      }
      BKP_TRY(cat.insert_audit(*entry));
      ++report.imported;
    }
  }
  return report;
}

util::Result<AuditReport> verify_audit(Repository& repo) {
  BKP_ASSIGN(auto report, import_audit(repo, AuditImport::new_only));
  auto key = audit_key(repo.keyring());
  auto& cat = repo.catalog();
  BKP_ASSIGN(auto local, local_audit_chain(cat));
  BKP_ASSIGN(auto stored, list_stored(repo.backend(), report.problems));
  BKP_ASSIGN(auto rows, cat.list_audit());
  auto& problems = report.problems;

  // Rows come ordered by chain, then seq, then the pending ones.
  std::map<std::string, std::vector<const AuditRow*>> chains;
  for (auto& r : rows) {
    if (!r.seq) {
      ++report.pending;
      continue;
    }
    chains[r.chain].push_back(&r);
  }
  report.chains = chains.size();
  for (auto& [chain, entries] : chains) {
    std::int64_t expected = 1;
    std::string prev = audit_genesis_mac;
    bool later_mirrored = false;
    for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
      // Mirroring goes in seq order: an unmirrored entry before a mirrored
      // one had its flag cleared to hide a deleted object.
      if ((*it)->mirrored) later_mirrored = true;
      if (!(*it)->mirrored && later_mirrored) {
        problems.push_back("audit entry '" + entry_name(**it) +
                           "' is marked unmirrored after mirrored entries");
      }
    }
    for (auto* r : entries) {
      ++report.entries;
      const auto name = entry_name(*r);
      if (*r->seq != expected) {
        if (*r->seq > expected) {
          problems.push_back("audit chain '" + chain + "': entries " + std::to_string(expected) +
                             " to " + std::to_string(*r->seq - 1) + " are missing (removed)");
        } else {
          problems.push_back("audit entry '" + name + "' is out of order");
        }
      }
      if (audit_mac(key, *r) != r->mac) {
        problems.push_back("audit entry '" + name + "' fails its MAC (edited, moved or forged)");
      } else if (r->prev_mac != prev) {
        problems.push_back("audit entry '" + name +
                           "' does not follow the entry before it (removed or reordered)");
      }
      prev = r->mac;
      expected = *r->seq + 1;

      auto chain_it = stored.find(chain);
      bool in_storage = chain_it != stored.end() && chain_it->second.count(*r->seq);
      if (!in_storage) {
        if (r->mirrored) {
          problems.push_back("audit entry '" + name + "' is missing from the storage");
        } else {
          ++report.unmirrored;
        }
        continue;
      }
      auto sealed = repo.backend().get(chain_it->second.at(*r->seq));
      if (!sealed) {
        problems.push_back(sealed.error().context("reading '" + name + "'").message);
        continue;
      }
      auto entry = open_audit_entry(key, *sealed, name);
      if (!entry) {
        problems.push_back(entry.error().message);
      } else if (!same_entry(*entry, *r)) {
        problems.push_back("audit entry '" + name + "' differs between catalog and storage");
      }
      chain_it->second.erase(*r->seq);
    }
  }
  // What storage still holds, the catalog lacks: import took every new
  // entry of other chains, so these were removed from the catalog.
  for (auto& [chain, entries] : stored) {
    for (auto& [seq, name] : entries) {
      problems.push_back("audit entry '" + name + "' is in the storage but missing from the " +
                         (chain == local ? "catalog" : "catalog (removed)"));
    }
  }
  BKP_TRY(check_audit_anchors(repo, rows, report));
  return report;
}

}  // namespace bkp::repo
