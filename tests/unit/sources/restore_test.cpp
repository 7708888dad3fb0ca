#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <map>

#include "sources/files/reader.hpp"
#include "sources/files/restore_meta.hpp"
#include "sources/files/walker.hpp"
#include "test_tmpdir.hpp"
#include "tree_fixture.hpp"
#include "util/fs.hpp"

using namespace bkp;
using namespace bkp::sources;
using bkp::test::Event;
using bkp::test::Recorder;
namespace fs = std::filesystem;

namespace {

// Restores what it is walked over under `dst`, the way the engine will:
// directories created on enter and given their metadata on leave. It
// records the nodes it restored: a walk itself changes some atimes (readlink
// of a symlink, reading a directory), so an earlier walk would not match.
class Restorer : public Recorder {
 public:
  Restorer(fs::path src, fs::path dst) : src_(std::move(src)), dst_(std::move(dst)) {}

  util::Status enter_dir(const fs::path& p, const Node& n) override {
    BKP_TRY(Recorder::enter_dir(p, n));
    return create_dir(target(p), n);
  }
  util::Status leave_dir(const fs::path& p, const Node& n) override {
    BKP_TRY(Recorder::leave_dir(p, n));
    return apply_metadata(target(p), n, Ownership::restore, warnings);
  }
  util::Status entry(const fs::path& p, const Node& n) override {
    BKP_TRY(Recorder::entry(p, n));
    fs::path t = target(p);
    switch (n.type) {
      case NodeType::file: {
        auto key = std::make_pair(n.device, n.inode);
        if (n.nlink > 1 && links_.count(key)) return create_hardlink(t, links_[key]);
        links_[key] = t;
        BKP_TRY(copy(p, t, n));
        break;
      }
      case NodeType::symlink:
        BKP_TRY(create_symlink(t, n));
        break;
      default:
        BKP_TRY(create_special(t, n));
    }
    return apply_metadata(t, n, Ownership::restore, warnings);
  }
  void skipped(const fs::path& p, const util::Error& e) override {
    FAIL("skipped " << p << ": " << e.message);
  }

  std::vector<std::string> warnings;

 private:
  fs::path target(const fs::path& p) const {
    return p == src_ ? dst_ : dst_ / p.lexically_relative(src_);
  }

  static util::Status copy(const fs::path& from, const fs::path& to, const Node& n) {
    BKP_ASSIGN(auto reader, open_for_backup(from, n));
    FileWriter w;
    BKP_TRY(w.open(to));
    // An odd buffer size, so writes straddle the 4 KiB block boundaries.
    std::vector<std::uint8_t> buf(1'000'003);
    for (;;) {
      BKP_ASSIGN(size_t got, reader.read(buf.data(), buf.size()));
      if (got == 0) break;
      BKP_TRY(w.write(util::ByteView(buf.data(), got)));
    }
    if (reader.changed_while_reading()) return util::fail(util::ErrorKind::io, "changed");
    return w.finish(n.size, Sync::yes);
  }

  fs::path src_, dst_;
  std::map<std::pair<std::uint64_t, std::uint64_t>, fs::path> links_;
};

}  // namespace

TEST_CASE("a walked tree restores with identical content and metadata", "[restore]") {
  test::TempDir tmp;
  auto tree = test::build_tree(tmp.path() / "src");
  auto dst = tmp.path() / "restored";

  Restorer restorer(tree.root, dst);
  auto restored = walk({tree.root}, {}, restorer);
  INFO((restored.ok() ? std::string() : restored.error().message));
  REQUIRE(restored.ok());
  // As root everything is restorable; user.* on a symlink is not, but
  // no symlink here has one.
  CHECK(restorer.warnings.empty());

  Recorder after;
  REQUIRE(walk({dst}, {}, after).ok());
  const auto& before = restorer.events;
  REQUIRE(after.events.size() == before.size());
  for (size_t i = 0; i < before.size(); ++i) {
    const Event& a = before[i];
    const Event& b = after.events[i];
    const Node& x = a.node;
    const Node& y = b.node;
    INFO("entry " << a.path);
    REQUIRE(b.kind == a.kind);
    REQUIRE(b.path == (a.path == tree.root ? dst : dst / a.path.lexically_relative(tree.root)));
    if (a.path != tree.root) CHECK(y.name == x.name);
    CHECK(y.type == x.type);
    CHECK(y.mode == x.mode);
    CHECK(y.uid == x.uid);
    CHECK(y.gid == x.gid);
    CHECK(y.user == x.user);
    CHECK(y.group == x.group);
    CHECK(y.mtime_ns == x.mtime_ns);
    CHECK(y.atime_ns == x.atime_ns);
    CHECK(y.nlink == x.nlink);
    CHECK(y.rdev == x.rdev);
    CHECK(y.link_target == x.link_target);
    REQUIRE(y.xattrs.size() == x.xattrs.size());
    for (size_t j = 0; j < x.xattrs.size(); ++j) {
      CHECK(y.xattrs[j].name == x.xattrs[j].name);
      CHECK(y.xattrs[j].value == x.xattrs[j].value);
    }
    if (x.type != NodeType::dir) CHECK(y.size == x.size);
    if (x.type == NodeType::file) {
      CHECK(y.sparse == x.sparse);
      CHECK(test::same_content(a.path, b.path));
    }
  }
  auto node = [&](const fs::path& rel) {
    const Event* e = after.find(dst / rel);
    REQUIRE(e != nullptr);
    return e->node;
  };
  CHECK(node("hard1").inode == node("hard2").inode);
  CHECK(node("hard1").inode != node("file.txt").inode);
  CHECK(node("setuid").mode == 04755);
  CHECK(node("owned").uid == 65534);
  CHECK(node("unknown-owner").gid == 123457);
  CHECK(node("longlink").link_target == tree.long_target);
  CHECK(node(test::newline_name).type == NodeType::file);
  CHECK(test::same_content(tree.root / test::invalid_utf8_name, dst / test::invalid_utf8_name));
  if (tree.has_acl) {
    REQUIRE(node("acl").xattrs.size() == 1);
    CHECK(node("acl").xattrs[0].name == "system.posix_acl_access");
    // The default ACL was put on acldir after its child was created.
    CHECK(node("acldir/child").xattrs.empty());
  }
  // 100 MiB with 13 bytes of data: a few blocks at most.
  CHECK(test::blocks_of(dst / "sparse") * 512 < (1u << 20));
  CHECK(test::blocks_of(dst / "sparse") > 0);
}

TEST_CASE("FileWriter skips zero blocks, aligned to the file offset", "[restore]") {
  test::TempDir tmp;
  auto p = tmp.path() / "f";
  util::Bytes expected;
  FileWriter w;
  REQUIRE(w.open(p).ok());
  // 100 bytes of data, then zeros up to 1 MiB in unaligned pieces, data at
  // the end of a block, and 3 MiB of trailing zeros.
  auto put = [&](util::Bytes piece) {
    REQUIRE(w.write(piece).ok());
    util::append(expected, piece);
  };
  put(util::Bytes(100, 'a'));
  put(util::Bytes(4000, 0));
  for (int i = 0; i < 255; ++i) put(util::Bytes(4097, 0));
  put(util::Bytes(1, 'z'));
  put(util::Bytes(3 << 20, 0));
  CHECK(w.offset() == expected.size());
  REQUIRE(w.finish(expected.size()).ok());
  auto back = util::read_file(p);
  REQUIRE(back.ok());
  CHECK(*back == expected);
  CHECK(fs::file_size(p) == expected.size());
  CHECK(test::blocks_of(p) * 512 <= 3 * 4096);
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0600);

  // A data block after a zero one still lands at its offset, and a block
  // that is zero except its last byte is written.
  REQUIRE(w.open(p).ok());
  util::Bytes block(4096, 0);
  block.back() = 1;
  REQUIRE(w.write(util::Bytes(8192, 0)).ok());
  REQUIRE(w.write(block).ok());
  REQUIRE(w.finish(3 * 4096, Sync::yes).ok());
  back = util::read_file(p);
  REQUIRE(back->size() == 3 * 4096);
  CHECK((*back)[3 * 4096 - 1] == 1);
  CHECK(std::count(back->begin(), back->end(), 0) == 3 * 4096 - 1);
}

TEST_CASE("FileWriter errors", "[restore]") {
  test::TempDir tmp;
  FileWriter w;
  CHECK_FALSE(w.write(util::Bytes(1, 1)).ok());
  CHECK_FALSE(w.finish(0).ok());
  SECTION("size mismatch is corruption") {
    REQUIRE(w.open(tmp.path() / "f").ok());
    REQUIRE(w.write(util::Bytes(10, 1)).ok());
    auto st = w.finish(11);
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().kind == util::ErrorKind::corrupt);
    CHECK(st.error().message.find("got 10 bytes of content, expected 11") != std::string::npos);
  }
  SECTION("never writes through a symlink") {
    test::write_text(tmp.path() / "victim", "keep");
    fs::create_symlink(tmp.path() / "victim", tmp.path() / "link");
    REQUIRE_FALSE(w.open(tmp.path() / "link").ok());
    CHECK(*util::read_text_file(tmp.path() / "victim") == "keep");
  }
  SECTION("moves") {
    REQUIRE(w.open(tmp.path() / "m").ok());
    REQUIRE(w.write(util::to_bytes("ab")).ok());
    FileWriter moved = std::move(w);
    FileWriter other;
    other = std::move(moved);
    REQUIRE(other.write(util::to_bytes("c")).ok());
    REQUIRE(other.finish(3).ok());
    CHECK(*util::read_text_file(tmp.path() / "m") == "abc");
  }
}

TEST_CASE("create functions", "[restore]") {
  test::TempDir tmp;
  const auto& d = tmp.path();
  Node n;
  SECTION("directories: new, existing, and a file in the way") {
    REQUIRE(create_dir(d / "x", n).ok());
    struct stat st {};
    REQUIRE(::stat((d / "x").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0700);
    CHECK(create_dir(d / "x", n).ok());
    test::write_text(d / "file", "");
    auto e = create_dir(d / "file", n);
    REQUIRE_FALSE(e.ok());
    CHECK(e.error().kind == util::ErrorKind::exists);
    CHECK(create_dir(d / "no" / "parent", n).error().kind == util::ErrorKind::not_found);
  }
  SECTION("special files") {
    n.type = NodeType::socket;
    auto s = create_special(d / "sock", n);
    REQUIRE_FALSE(s.ok());
    CHECK(s.error().kind == util::ErrorKind::partial);
    CHECK_FALSE(fs::exists(fs::symlink_status(d / "sock")));
    n.type = NodeType::dir;
    CHECK(create_special(d / "dir", n).error().kind == util::ErrorKind::generic);
    n.type = NodeType::fifo;
    REQUIRE(create_special(d / "fifo", n).ok());
    CHECK(fs::is_fifo(fs::symlink_status(d / "fifo")));
    CHECK(create_special(d / "fifo", n).error().kind == util::ErrorKind::exists);
    n.type = NodeType::blockdev;
    n.rdev = makedev(7, 200);
    if (create_special(d / "blk", n).ok()) {
      struct stat st {};
      REQUIRE(::lstat((d / "blk").c_str(), &st) == 0);
      CHECK(S_ISBLK(st.st_mode));
      CHECK(st.st_rdev == makedev(7, 200));
    }
  }
  SECTION("symlinks and hard links") {
    n.link_target = std::string("weird\n\xff target");
    REQUIRE(create_symlink(d / "l", n).ok());
    CHECK(fs::read_symlink(d / "l").string() == n.link_target);
    CHECK(create_symlink(d / "l", n).error().kind == util::ErrorKind::exists);
    auto h = create_hardlink(d / "h", d / "missing");
    REQUIRE_FALSE(h.ok());
    CHECK(h.error().message.find("missing'") != std::string::npos);
  }
}

TEST_CASE("apply_metadata: ownership skip, symlinks, errors", "[restore]") {
  test::TempDir tmp;
  auto p = tmp.path() / "f";
  test::write_text(p, "x");
  Node n;
  n.uid = 65534;
  n.gid = 65534;
  n.mode = 02640;
  n.mtime_ns = -1'500'000'000;  // before 1970
  n.atime_ns = 5;
  n.xattrs = {{"user.a", util::to_bytes("1")}};
  std::vector<std::string> warnings;
  REQUIRE(apply_metadata(p, n, Ownership::skip, warnings).ok());
  CHECK(warnings.empty());
  auto got = stat_path(p);
  REQUIRE(got.ok());
  CHECK(got->uid == 0);
  CHECK(got->mode == 02640);
  CHECK(got->mtime_ns == -1'500'000'000);
  CHECK(got->atime_ns == 5);
  CHECK(got->xattrs.size() == 1);

  // user.* xattrs are not allowed on symlinks: a warning, the rest applies.
  fs::create_symlink("f", tmp.path() / "l");
  n.type = NodeType::symlink;
  REQUIRE(apply_metadata(tmp.path() / "l", n, Ownership::restore, warnings).ok());
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0].find("extended attribute 'user.a'") != std::string::npos);
  auto link = stat_path(tmp.path() / "l");
  CHECK(link->uid == 65534);
  CHECK(link->mtime_ns == -1'500'000'000);
  CHECK(stat_path(p)->uid == 0);  // not followed

  auto missing = apply_metadata(tmp.path() / "missing", n, Ownership::restore, warnings);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().kind == util::ErrorKind::not_found);
  n.type = NodeType::file;
  // An unknown namespace is unsupported: a warning. A name longer than
  // XATTR_NAME_MAX is an error.
  n.xattrs = {{"bogus.namespace", {}}};
  warnings.clear();
  REQUIRE(apply_metadata(p, n, Ownership::skip, warnings).ok());
  CHECK(warnings.size() == 1);
  n.xattrs = {{"user." + std::string(300, 'n'), {}}};
  auto bad = apply_metadata(p, n, Ownership::skip, warnings);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message.find("restoring extended attribute 'user.nnn") != std::string::npos);
}
