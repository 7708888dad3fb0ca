// A backup by a user who cannot read everything: the unreadable file and
// directory are skipped with a warning naming them, the snapshot is still
// written and marked partial. Runs in a forked child that drops to nobody,
// since the tests themselves run as root.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

#include "as_nobody.hpp"
#include "engine/snapshots.hpp"
#include "engine/tree_walk.hpp"
#include "engine_fixture.hpp"
#include "storage/local.hpp"

using namespace bkp;
using namespace bkp::test;

namespace {

bool contains(const std::vector<std::string>& v, const std::string& s) {
  for (auto& x : v) {
    if (x.find(s) != std::string::npos) return true;
  }
  return false;
}

void chown_tree(const fs::path& p) {
  REQUIRE(::lchown(p.c_str(), nobody, nobody) == 0);
  for (auto& e : fs::recursive_directory_iterator(p)) {
    REQUIRE(::lchown(e.path().c_str(), nobody, nobody) == 0);
  }
}

}  // namespace

TEST_CASE("unreadable files make a partial snapshot", "[backup][unprivileged]") {
  if (::getuid() != 0) {
    std::printf("BKP-SKIP: not root, cannot switch to nobody\n");
    return;
  }
  RepoFixture f;
  f.close();
  REQUIRE(::chmod(f.root().c_str(), 0755) == 0);
  const fs::path src = f.root() / "src";
  fs::create_directories(src / "locked");
  REQUIRE(::chmod(src.c_str(), 0755) == 0);
  REQUIRE(::chmod((src / "locked").c_str(), 0700) == 0);
  write_file(src / "locked" / "hidden", "hidden");
  write_file(src / "readable.txt", "everyone may read this");
  write_file(src / "secret", "only root", 0600);
  fs::create_directories(f.root() / "nobody");
  chown_tree(f.root() / "nobody");
  chown_tree(f.storage());

  std::string snapshot_id;
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  auto outcome = as_nobody([&]() -> std::string {
    auto opened = repo::Repository::open(std::make_unique<storage::LocalBackend>(f.storage()),
                                         test_credentials(), f.root() / "nobody" / "catalog.db");
    if (!opened) return opened.error().message;
    engine::FileBackupOptions o;
    o.paths = {src};
    auto r = engine::backup_files(**opened, o);
    if (!r) return r.error().message;
    EXPECT(r->partial);
    EXPECT(r->warnings.size() == 2);
    EXPECT(contains(r->warnings, "skipped '" + (src / "secret").string() + "': opening '" +
                                     (src / "secret").string() + "': Permission denied"));
    EXPECT(contains(r->warnings, "skipped '" + (src / "locked").string() + "'"));
    EXPECT(r->snapshot.stats["partial"] == true);
    EXPECT(r->snapshot.stats["warnings"] == 2);
    EXPECT(r->snapshot.stats["files_new"] == 1);
    EXPECT(r->snapshot.stats["total_bytes"] == 22);  // the skipped file not counted
    auto row = (*opened)->catalog().get_backup(r->snapshot.id);
    EXPECT(row.ok() && row->has_value() && (*row)->status == "partial");
    // The id goes back to the parent through a second pipe.
    ssize_t n = ::write(fds[1], r->snapshot.id.data(), r->snapshot.id.size());
    EXPECT(n == static_cast<ssize_t>(r->snapshot.id.size()));
    return "";
  });
  ::close(fds[1]);
  char buf[128] = {};
  ssize_t n = ::read(fds[0], buf, sizeof buf);
  ::close(fds[0]);
  REQUIRE(outcome == "");
  REQUIRE(n == 64);
  snapshot_id.assign(buf, 64);

  // Back as root: the snapshot is in storage and restores without the
  // skipped entries (no empty stand-ins).
  f.reopen();
  REQUIRE_OK(f.repo().sync_catalog());
  auto snap = engine::resolve_snapshot(f.repo(), snapshot_id);
  REQUIRE_OK(snap);
  auto row = f.repo().catalog().get_backup(snapshot_id);
  REQUIRE_OK(row);
  REQUIRE(row->has_value());
  CHECK((*row)->status == "partial");
  auto secret = engine::find_node(f.repo(), snap->tree, (src / "secret").string());
  CHECK_FALSE(secret.ok());

  const fs::path target = f.root() / "restore";
  auto restored = f.restore(*snap, target);
  CHECK(restored.warnings.empty());
  CHECK(read_text(under(target, src / "readable.txt")) == "everyone may read this");
  CHECK_FALSE(fs::exists(under(target, src / "secret")));
  CHECK_FALSE(fs::exists(under(target, src / "locked")));

  // The next backup, able to read everything, is complete and uses the
  // partial one as its parent.
  auto next = f.backup({src});
  CHECK_FALSE(next.partial);
  CHECK(next.snapshot.parent == snapshot_id);
  CHECK(next.snapshot.stats["files_unmodified"] == 1);
  CHECK(next.snapshot.stats["files_new"] == 2);
}
