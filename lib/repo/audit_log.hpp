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
#include "repo/repository.hpp"

namespace bkp::repo {

struct AuditReport {
  std::size_t entries = 0;  // entries checked (sealed into a chain)
  std::size_t chains = 0;
  std::size_t imported = 0;           // entries read from storage into the catalog
  std::size_t pending = 0;            // recorded without the key, not yet sealed
  std::size_t unmirrored = 0;         // sealed, but not yet in storage
  std::vector<std::string> problems;  // each names the entry; empty: clean
};

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

// Reads entries from storage into the catalog. new_only: entries of other
// chains past what the catalog holds (other hosts' commands) — never the
// local chain's, and never a gap, so an entry removed from the catalog is
// reported by verify instead of being silently put back. repair (catalog
// rebuild): every stored entry the catalog lacks. Entries that fail
// authentication are reported, not imported.
enum class AuditImport { new_only, repair };
util::Result<AuditReport> import_audit(Repository& repo, AuditImport mode);

// Imports new entries, then checks every chain: sequence numbers from 1
// without gaps, each MAC over the entry's fields and the previous MAC, and
// the catalog and the storage holding the same entries.
util::Result<AuditReport> verify_audit(Repository& repo);

}  // namespace bkp::repo
