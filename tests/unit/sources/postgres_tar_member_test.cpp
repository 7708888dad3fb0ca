// Tar members of a BASE_BACKUP as the entries a file walk gives.
#include <archive_entry.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>

#include <memory>

#include "sources/postgres/tar_member.hpp"

using namespace bkp;
namespace pg = bkp::sources::postgres;

namespace {

struct EntryDeleter {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};
using Entry = std::unique_ptr<archive_entry, EntryDeleter>;

Entry entry(const char* path, mode_t type, mode_t perm) {
  Entry e(archive_entry_new());
  archive_entry_set_pathname(e.get(), path);
  archive_entry_set_filetype(e.get(), type);
  archive_entry_set_perm(e.get(), perm);
  archive_entry_set_uid(e.get(), 105);
  archive_entry_set_gid(e.get(), 110);
  archive_entry_set_uname(e.get(), "postgres");
  archive_entry_set_gname(e.get(), "postgres");
  archive_entry_set_mtime(e.get(), 1'795'000'000, 250);
  return e;
}

}  // namespace

TEST_CASE("tar member paths are normalised; escaping ones refused", "[postgres][tar]") {
  CHECK(*pg::tar_member_path("base/1/1259") == "base/1/1259");
  CHECK(*pg::tar_member_path("./global/pg_control") == "global/pg_control");
  CHECK(*pg::tar_member_path("pg_wal/") == "pg_wal");
  CHECK(*pg::tar_member_path("PG_15_202209061/16384//") == "PG_15_202209061/16384");
  for (const char* bad : {"", "/etc/passwd", "../x", "base/../../x", "a//b", "./", "a/./b", "."}) {
    INFO(bad);
    auto r = pg::tar_member_path(bad);
    REQUIRE(!r);
    CHECK(r.error().kind == util::ErrorKind::corrupt);
  }
}

TEST_CASE("tar members become nodes: files, directories, symlinks", "[postgres][tar]") {
  auto f = entry("base/1/1259", AE_IFREG, 0600);
  archive_entry_set_size(f.get(), 8192 * 3);
  auto n = pg::tar_member_node(f.get(), "1259");
  REQUIRE(n);
  CHECK(n->name == "1259");
  CHECK(n->type == sources::NodeType::file);
  CHECK(n->mode == 0600);
  CHECK(n->size == 8192 * 3);
  CHECK(n->uid == 105);
  CHECK(n->gid == 110);
  CHECK(n->user == "postgres");
  CHECK(n->group == "postgres");
  CHECK(n->mtime_ns == 1'795'000'000'000'000'250);
  CHECK(n->ctime_ns == n->mtime_ns);
  CHECK(n->inode == 0);

  auto d = entry("pg_wal", AE_IFDIR, 0700);
  n = pg::tar_member_node(d.get(), "pg_wal");
  REQUIRE(n);
  CHECK(n->type == sources::NodeType::dir);
  CHECK(n->mode == 0700);
  CHECK(n->size == 0);

  auto l = entry("pg_tblspc/16385", AE_IFLNK, 0777);
  archive_entry_set_symlink(l.get(), "/srv/space");
  n = pg::tar_member_node(l.get(), "16385");
  REQUIRE(n);
  CHECK(n->type == sources::NodeType::symlink);
  CHECK(n->link_target == "/srv/space");

  auto s = entry("x", AE_IFREG, 04755);
  n = pg::tar_member_node(s.get(), "x");
  REQUIRE(n);
  CHECK(n->mode == 04755);
}

TEST_CASE("tar members a data directory never has are refused", "[postgres][tar]") {
  auto h = entry("base/1/a", AE_IFREG, 0600);
  archive_entry_set_hardlink(h.get(), "base/1/b");
  auto r = pg::tar_member_node(h.get(), "a");
  REQUIRE(!r);
  CHECK(r.error().message.find("hard link") != std::string::npos);
  for (mode_t t : {mode_t(AE_IFCHR), mode_t(AE_IFBLK), mode_t(AE_IFIFO)}) {
    auto e = entry("dev", t, 0600);
    CHECK(!pg::tar_member_node(e.get(), "dev"));
  }
  auto dangling = entry("pg_tblspc/1", AE_IFLNK, 0777);
  CHECK(!pg::tar_member_node(dangling.get(), "1"));
}
