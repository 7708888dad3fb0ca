// bkp wal-fetch %f %p: PostgreSQL's restore_command. The server asks for
// files that were never archived (the next segment, newer timelines'
// history files) as a matter of course: those exit 1 without a message.
#include <CLI/CLI.hpp>

#include "command.hpp"
#include "engine/wal.hpp"

namespace bkp::cli {

namespace {
struct WalFetchArgs {
  std::string name, dest;
};
}  // namespace

RunFn setup_wal_fetch(CLI::App& sub) {
  auto a = std::make_shared<WalFetchArgs>();
  sub.add_option("name", a->name, "the WAL file name to fetch (%f in restore_command)")->required();
  sub.add_option("dest", a->dest, "where to write it (%p in restore_command)")->required();
  return [a](Context& ctx) {
    auto r = engine::wal_fetch(*ctx.repo, a->name, a->dest);
    if (!r) {
      if (r.error().kind == util::ErrorKind::not_found) {
        ctx.out.detail(r.error().message);
        if (ctx.out.json()) ctx.out.emit("wal-fetch", {{"name", a->name}, {"found", false}});
        return util::exit_code(util::ErrorKind::not_found);
      }
      return ctx.out.error(r.error());
    }
    if (ctx.out.json()) {
      ctx.out.emit("wal-fetch", {{"name", r->name}, {"found", true}, {"size", r->size}});
    } else {
      ctx.out.detail("fetched '" + r->name + "' (" + human_bytes(r->size) + ")");
    }
    return 0;
  };
}

}  // namespace bkp::cli
