#include <CLI/CLI.hpp>

#include "command.hpp"

namespace bkp::cli {

RunFn setup_catalog(CLI::App& sub) {
  sub.add_subcommand("rebuild", "recreate the local catalog from the storage and the key");
  sub.require_subcommand(1);
  return [](Context& ctx) {
    auto& repo = *ctx.repo;
    if (auto st = repo.rebuild_catalog(); !st) return ctx.out.error(st.error());
    auto blobs = repo.catalog().blob_count();
    auto rows = repo.catalog().list_backups();
    if (!blobs || !rows) return ctx.out.error(blobs ? rows.error() : blobs.error());
    if (ctx.out.json()) {
      ctx.out.emit("catalog", {{"catalog", repo.catalog_path().string()},
                               {"blobs", *blobs},
                               {"backups", rows->size()}});
    } else {
      ctx.out.info("rebuilt catalog '" + repo.catalog_path().string() + "': " +
                   std::to_string(rows->size()) + " backups, " + std::to_string(*blobs) + " chunks");
    }
    return 0;
  };
}

}  // namespace bkp::cli
