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

namespace {
struct WalPushOptions {
  std::string path;
  std::string key_domain;
};
}  // namespace

RunFn setup_wal_push(CLI::App& sub) {
  auto o = std::make_shared<WalPushOptions>();
  sub.add_option("path", o->path, "the WAL file to archive (%p in archive_command)")->required();
  sub.add_option("--key-domain", o->key_domain,
                 "seal the file under key domain D, as the cluster's base backups (keys shred "
                 "--domain D then erases the WAL too)");
  return [o](Context& ctx) {
    auto started = std::chrono::steady_clock::now();
    // Before anything is stored: the domain chunks, names and seals it all.
    if (!o->key_domain.empty()) {
      if (auto st = ctx.repo->use_key_domain(o->key_domain); !st) return ctx.out.error(st.error());
    }
    auto r = engine::wal_push(*ctx.repo, o->path);
    if (!r) return ctx.out.error(r.error());
    push_wal_to_replicas(ctx, o->path);
    std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
    if (ctx.out.json()) {
      ctx.out.emit("wal-push", {{"name", r->name},
                                {"object", r->object},
                                {"size", r->size},
                                {"already_archived", r->already_archived},
                                {"stored_bytes_new", r->stored_bytes_new},
                                {"key_domain", o->key_domain},
                                {"seconds", took.count()}});
    } else {
      ctx.out.detail((r->already_archived ? "already archived '" : "archived '") + r->name + "' (" +
                     human_bytes(r->size) + ")");
    }
    return 0;
  };
}

}  // namespace bkp::cli
