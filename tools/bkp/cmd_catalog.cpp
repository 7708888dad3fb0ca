#include <CLI/CLI.hpp>

#include "command.hpp"
#include "repo/audit_log.hpp"

namespace bkp::cli {

RunFn setup_catalog(CLI::App& sub) {
  sub.add_subcommand("rebuild", "recreate the local catalog from the storage and the key");
  sub.require_subcommand(1);
  return [](Context& ctx) {
    auto& repo = *ctx.repo;
    if (auto st = repo.rebuild_catalog(); !st) return ctx.out.error(st.error());
    // The audit log too: every stored entry the catalog lacks.
    auto audit = repo::import_audit(repo, repo::AuditImport::repair);
    if (!audit) return ctx.out.error(audit.error());
    for (auto& p : audit->problems) ctx.out.warn(p);
    auto blobs = repo.catalog().blob_count();
    auto rows = repo.catalog().list_backups();
    if (!blobs || !rows) return ctx.out.error(blobs ? rows.error() : blobs.error());
    if (ctx.out.json()) {
      ctx.out.emit("catalog", {{"catalog", repo.catalog_path().string()},
                               {"blobs", *blobs},
                               {"backups", rows->size()},
                               {"audit_entries", audit->imported}});
    } else {
      ctx.out.info("rebuilt catalog '" + repo.catalog_path().string() +
                   "': " + std::to_string(rows->size()) + " backups, " + std::to_string(*blobs) +
                   " chunks, " + std::to_string(audit->imported) + " audit entries restored");
    }
    return 0;
  };
}

}  // namespace bkp::cli
