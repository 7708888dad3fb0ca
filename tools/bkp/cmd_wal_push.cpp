// bkp wal-push %p: PostgreSQL's archive_command. Silent on success (the
// server logs whatever it prints), exit 0 only once the file is durable.
// Then the same file goes to each replica (a replica that fails is a
// warning, not a failure: see replicas.hpp).
#include <CLI/CLI.hpp>

#include <chrono>

#include "command.hpp"
#include "engine/wal.hpp"
#include "replicas.hpp"

namespace bkp::cli {

RunFn setup_wal_push(CLI::App& sub) {
  auto path = std::make_shared<std::string>();
  sub.add_option("path", *path, "the WAL file to archive (%p in archive_command)")->required();
  return [path](Context& ctx) {
    auto started = std::chrono::steady_clock::now();
    auto r = engine::wal_push(*ctx.repo, *path);
    if (!r) return ctx.out.error(r.error());
    push_wal_to_replicas(ctx, *path);
    std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
    if (ctx.out.json()) {
      ctx.out.emit("wal-push", {{"name", r->name},
                                {"object", r->object},
                                {"size", r->size},
                                {"already_archived", r->already_archived},
                                {"stored_bytes_new", r->stored_bytes_new},
                                {"seconds", took.count()}});
    } else {
      ctx.out.detail((r->already_archived ? "already archived '" : "archived '") + r->name + "' (" +
                     human_bytes(r->size) + ")");
    }
    return 0;
  };
}

}  // namespace bkp::cli
