// Audit anchors at the repository level: taking the chain head for an
// object about to be written, and checking every stored anchor against the
// chains (repo/audit_anchor.hpp says why).
#include <algorithm>
#include <map>
#include <set>

#include "repo/audit_entry.hpp"
#include "repo/audit_log.hpp"
#include "repo/envelope.hpp"
#include "repo/wal_entry.hpp"

namespace bkp::repo {

using util::ErrorKind;
using util::fail;

namespace {

bool lower_hex(std::string_view s, std::size_t n) {
  return s.size() == n && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

struct Anchored {
  AuditAnchor anchor;
  std::string object;  // the snapshot manifest or WAL entry that records it
};

// The anchor a stored object records. nullopt when it has none, was removed
// meanwhile (forget, prune), or cannot be opened with this key (counted).
util::Result<std::optional<AuditAnchor>> read_anchor(Repository& repo, ObjectType type,
                                                     const std::string& name, AuditReport& report) {
  auto sealed = repo.backend().get(name);
  if (!sealed && sealed.error().kind == ErrorKind::not_found) return std::optional<AuditAnchor>{};
  if (!sealed) return fail(sealed.error().context("reading '" + name + "'"));
  auto header = peek_envelope(*sealed);
  const DataKey* key = header ? repo.find_key(header->key_id) : nullptr;
  // A backup slot holds only its own session keys; a shredded domain's key
  // is gone for good. Neither is a fault of the audit log.
  if (header && !key && (repo.is_writer() || repo.shredded_domain_of(*sealed))) {
    ++report.anchors_unread;
    return std::optional<AuditAnchor>{};
  }
  auto damaged = [&](const std::string& why) -> util::Result<std::optional<AuditAnchor>> {
    report.warnings.push_back("'" + name + "' cannot be read (" + why +
                              "), its audit anchor was not checked; run bkp verify");
    ++report.anchors_unread;
    return std::optional<AuditAnchor>{};
  };
  if (!header) return damaged(header.error().message);
  if (!key) return damaged("sealed with an unknown key");
  auto plain = open_object(type, key->key, *sealed, util::as_bytes(name));
  if (!plain) return damaged(plain.error().message);
  if (type == ObjectType::snapshot) {
    auto snap = Snapshot::decode(*plain);
    if (!snap) return damaged(snap.error().message);
    return snap->audit;
  }
  auto entry = WalEntry::decode(*plain);
  if (!entry) return damaged(entry.error().message);
  return entry->audit;
}

std::string range_text(std::int64_t from, std::int64_t to) {
  return from == to ? "entry " + std::to_string(from) + " is"
                    : "entries " + std::to_string(from) + " to " + std::to_string(to) + " are";
}

}  // namespace

util::Result<std::optional<AuditAnchor>> audit_anchor(Repository& repo) {
  auto& cat = repo.catalog();
  // Not local_audit_chain(): no chain yet means nothing to anchor, and
  // writing a snapshot should not start one.
  BKP_ASSIGN(auto chain, cat.get_meta(audit_chain_meta));
  if (!chain) return std::optional<AuditAnchor>{};
  BKP_ASSIGN(auto head, cat.audit_head(*chain));
  if (head && !head->mirrored) {
    // The previous command could not reach the storage. Ignored on failure:
    // the object's own write will tell whether storage works.
    (void)mirror_audit(repo);
  }
  // A head that is not what append_audit writes (an edited catalog) is not
  // anchored: a malformed anchor would make the manifest unreadable, and
  // verify reports the row itself.
  if (!head || !head->seq || *head->seq < 1 || !lower_hex(*chain, 32) ||
      !lower_hex(head->mac, 64)) {
    return std::optional<AuditAnchor>{};
  }
  return std::optional<AuditAnchor>{AuditAnchor{*chain, *head->seq, head->mac}};
}

util::Status check_audit_anchors(Repository& repo, const std::vector<catalog::AuditRow>& rows,
                                 AuditReport& report) {
  std::vector<std::pair<std::string, ObjectType>> objects;
  auto collect = [&](std::string_view prefix, ObjectType type) {
    return repo.backend().list(prefix, [&](const storage::ObjectInfo& o) {
      objects.emplace_back(o.name, type);
      return util::Status{};
    });
  };
  BKP_TRY(collect("snapshots/", ObjectType::snapshot));
  BKP_TRY(collect(wal_prefix, ObjectType::wal_entry));

  std::map<std::string, std::vector<Anchored>> by_chain;
  for (auto& [name, type] : objects) {
    BKP_ASSIGN(auto anchor, read_anchor(repo, type, name, report));
    if (anchor) by_chain[anchor->chain].push_back({*anchor, name});
  }

  std::map<std::string, std::map<std::int64_t, const catalog::AuditRow*>> known;
  for (auto& r : rows)
    if (r.seq) known[r.chain][*r.seq] = &r;
  // The newest seq of each chain in either place: entries only one side
  // lacks are verify's chain check to report, not removed from both.
  std::map<std::string, std::int64_t> heads;
  for (auto& [chain, entries] : known) heads[chain] = entries.rbegin()->first;
  BKP_TRY(repo.backend().list(audit_prefix, [&](const storage::ObjectInfo& o) {
    if (auto parsed = parse_audit_object_name(o.name)) {
      auto& h = heads[parsed->first];
      h = std::max(h, parsed->second);
    }
    return util::Status{};
  }));

  for (auto& [chain, anchors] : by_chain) {
    std::sort(anchors.begin(), anchors.end(),
              [](const Anchored& a, const Anchored& b) { return a.anchor.seq < b.anchor.seq; });
    auto& have = known[chain];
    const std::int64_t head = heads[chain];
    std::set<std::int64_t> reported;
    for (auto& a : anchors) {
      ++report.anchors;
      if (a.anchor.seq > head) continue;  // below, once for the newest
      auto it = have.find(a.anchor.seq);
      // A gap or an entry only the storage has: the chain check names it.
      if (it == have.end()) continue;
      if (it->second->mac != a.anchor.mac && reported.insert(a.anchor.seq).second) {
        report.problems.push_back(
            "audit entry '" + audit_object_name(chain, a.anchor.seq) + "' is not the entry '" +
            a.object +
            "' recorded when it was written (the chain was cut there and written again)");
      }
    }
    const auto& newest = anchors.back();
    if (newest.anchor.seq > head) {
      report.problems.push_back(
          "audit chain '" + chain + "': " + range_text(head + 1, newest.anchor.seq) +
          " missing from both the catalog and the storage: '" + newest.object +
          "' recorded entry " + std::to_string(newest.anchor.seq) +
          " as the chain's newest when it was written (the newest entries were removed)");
    }
  }
  return {};
}

}  // namespace bkp::repo
