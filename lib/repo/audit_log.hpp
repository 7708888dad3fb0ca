// The audit log of a repository: one hash-chained entry per command, in the
// catalog's audit_log table and mirrored, one create-only object per entry,
// under "audit/<chain>/<seq>" in the storage.
//
// One chain per catalog (a random id in the catalog's meta table), not one
// per repository: hosts appending at once then never race for a sequence
// number, and every object name is unique. Within a catalog, appends are
// serialised by SQLite's write lock. See doc/compliance.md for the threat
// model and doc/repository-format.md for the object format.
#pragma once

#include <string>
#include <vector>

#include "catalog/catalog.hpp"
#include "repo/audit_anchor.hpp"
#include "repo/repository.hpp"

namespace bkp::repo {

struct AuditReport {
  std::size_t entries = 0;  // entries checked (sealed into a chain)
  std::size_t chains = 0;
  std::size_t imported = 0;    // entries read from storage into the catalog
  std::size_t pending = 0;     // recorded without the key, not yet sealed
  std::size_t unmirrored = 0;  // sealed, but not yet in storage
  std::size_t anchors = 0;     // anchors found in snapshots and WAL entries, checked
  // Snapshots and WAL entries this key cannot open (a backup slot's, or a
  // shredded key domain's): their anchors were not checked.
  std::size_t anchors_unread = 0;
  std::vector<std::string> problems;  // each names the entry; empty: clean
  std::vector<std::string> warnings;  // not the audit log's fault (a damaged snapshot)
};

// The catalog meta key holding this catalog's chain id.
inline constexpr std::string_view audit_chain_meta = "audit_chain";

// This catalog's chain id (32 hex digits), created on first use.
util::Result<std::string> local_audit_chain(catalog::Catalog& catalog);

// Records an entry without the key (a command that could not open the
// repository): catalog only, pending, sealed into the chain by the next
// append_audit() on this catalog. Its fields cannot be authenticated.
util::Status record_pending_audit(catalog::Catalog& catalog, catalog::AuditRow row);

// Seals the pending entries, then `row`, into this catalog's chain (chain,
// seq, prev_mac and mac are set here), then mirrors every unmirrored entry
// of the chain to storage. The catalog rows are durable when the storage
// write fails: the error is returned and the next append tries again.
util::Status append_audit(Repository& repo, catalog::AuditRow row);
util::Status mirror_audit(Repository& repo);

// The head of this catalog's chain, for a snapshot manifest or WAL entry
// about to be written (Repository::save_snapshot, engine::wal_push);
// nullopt while the chain has no sealed entry. The head is mirrored first
// when it is not in storage yet, so that an anchor names an entry storage
// holds (a failure to mirror is left to the command's own audit append).
util::Result<std::optional<AuditAnchor>> audit_anchor(Repository& repo);

// Checks the anchor of every snapshot manifest and WAL entry in storage
// against `rows` (the catalog's entries, after import): the entry an
// anchor names must be in its chain with the anchored MAC. An anchor past
// a chain's head means its newest entries were removed from both the
// catalog and the storage; each problem names the range and the object.
util::Status check_audit_anchors(Repository& repo, const std::vector<catalog::AuditRow>& rows,
                                 AuditReport& report);

// Reads entries from storage into the catalog. new_only: entries of other
// chains past what the catalog holds (other hosts' commands) — never the
// local chain's, and never a gap, so an entry removed from the catalog is
// reported by verify instead of being silently put back. repair (catalog
// rebuild): every stored entry the catalog lacks. Entries that fail
// authentication are reported, not imported.
enum class AuditImport { new_only, repair };
util::Result<AuditReport> import_audit(Repository& repo, AuditImport mode);

// Imports new entries, then checks every chain: sequence numbers from 1
// without gaps, each MAC over the entry's fields and the previous MAC, the
// catalog and the storage holding the same entries, and every anchor
// (check_audit_anchors).
util::Result<AuditReport> verify_audit(Repository& repo);

}  // namespace bkp::repo
