// What an unprivileged user meets: unreadable directories, files it does
// not own, ownership it cannot restore. Run in a forked child that drops
// to nobody, since the tests themselves run as root.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstdio>

#include "as_nobody.hpp"
#include "sources/files/reader.hpp"
#include "sources/files/restore_meta.hpp"
#include "sources/files/walker.hpp"
#include "test_tmpdir.hpp"
#include "tree_fixture.hpp"

using namespace bkp;
using namespace bkp::sources;
using bkp::test::as_nobody;
using bkp::test::Event;
using bkp::test::nobody;
namespace fs = std::filesystem;

TEST_CASE("as an unprivileged user", "[unprivileged]") {
  if (::getuid() != 0) {
    std::printf("BKP-SKIP: not root, cannot switch to nobody\n");
    return;
  }
  test::TempDir tmp;
  const fs::path root = tmp.path();
  REQUIRE(::chmod(root.c_str(), 0755) == 0);
  fs::create_directories(root / "locked");
  REQUIRE(::chmod((root / "locked").c_str(), 0700) == 0);
  test::write_text(root / "locked" / "secret", "s");
  test::write_text(root / "open", "root's file");
  REQUIRE(::chmod((root / "open").c_str(), 0644) == 0);
  test::write_text(root / "mine", "nobody's file");
  REQUIRE(::chown((root / "mine").c_str(), nobody, nobody) == 0);

  SECTION("an unreadable directory is skipped and the walk goes on") {
    CHECK(as_nobody([&]() -> std::string {
            test::Recorder rec;
            if (auto st = walk({root}, {}, rec); !st) return st.error().message;
            EXPECT(rec.events.size() == 5);
            EXPECT(rec.events[1].kind == Event::skipped);
            EXPECT(rec.events[1].path == root / "locked");
            EXPECT(rec.events[1].error.find("opening directory '" + (root / "locked").string() +
                                            "': Permission denied") != std::string::npos);
            EXPECT(rec.events[2].path == root / "mine");
            EXPECT(rec.events[3].path == root / "open");
            EXPECT(rec.events[4].kind == Event::leave);
            // A path below it cannot even be lstat'ed: a root must exist.
            auto below = walk({root / "locked" / "secret"}, {}, rec);
            EXPECT(!below.ok());
            return "";
          }) == "");
  }

  SECTION("another user's file is read without O_NOATIME") {
    CHECK(as_nobody([&]() -> std::string {
            auto node = stat_path(root / "open");
            EXPECT(node.ok());
            auto r = open_for_backup(root / "open", *node);
            if (!r) return r.error().message;
            std::uint8_t buf[64];
            auto n = r->read(buf, sizeof buf);
            EXPECT(n.ok() && *n == 11);
            EXPECT(*r->read(buf, sizeof buf) == 0);
            EXPECT(!r->changed_while_reading());
            return "";
          }) == "");
  }

  SECTION("ownership and trusted xattrs become warnings, a refused chmod an error") {
    CHECK(as_nobody([&]() -> std::string {
            Node n;
            n.uid = 0;
            n.gid = 0;
            n.mode = 0604;
            n.mtime_ns = test::file_mtime_ns;
            n.atime_ns = test::file_atime_ns;
            n.xattrs = {{"trusted.bkp", util::to_bytes("t")}};
            std::vector<std::string> warnings;
            auto st = apply_metadata(root / "mine", n, Ownership::restore, warnings);
            if (!st) return st.error().message;
            EXPECT(warnings.size() == 2);
            EXPECT(warnings[0].find("restoring owner of") == 0);
            EXPECT(warnings[1].find("'trusted.bkp'") != std::string::npos);
            auto got = stat_path(root / "mine");
            EXPECT(got.ok() && got->uid == nobody && got->mode == 0604);
            EXPECT(got->mtime_ns == test::file_mtime_ns);

            warnings.clear();
            st = apply_metadata(root / "open", n, Ownership::skip, warnings);
            EXPECT(!st.ok());
            EXPECT(st.error().message.find("restoring mode of") == 0);
            return "";
          }) == "");
  }
}
