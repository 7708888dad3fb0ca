#include <catch2/catch.hpp>

#include <grp.h>
#include <pwd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <map>

#include "sources/files/walker.hpp"
#include "test_tmpdir.hpp"
#include "tree_fixture.hpp"

using namespace bkp;
using namespace bkp::sources;
using bkp::test::Event;
using bkp::test::Recorder;
namespace fs = std::filesystem;

namespace {

std::int64_t ns(const struct timespec& t) {
  return static_cast<std::int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_nsec;
}

std::vector<std::string> xattr_names(const Node& n) {
  std::vector<std::string> out;
  for (const auto& x : n.xattrs) out.push_back(x.name);
  return out;
}

// Fields that only lstat can tell, compared with lstat itself.
void check_against_lstat(const fs::path& p, const Node& n) {
  INFO("path " << p);
  struct stat st {};
  REQUIRE(::lstat(p.c_str(), &st) == 0);
  CHECK(n.name == p.filename().string());
  CHECK(n.inode == st.st_ino);
  CHECK(n.device == st.st_dev);
  CHECK(n.nlink == st.st_nlink);
  CHECK(n.size == static_cast<std::uint64_t>(st.st_size));
  CHECK(n.ctime_ns == ns(st.st_ctim));
  CHECK(n.mode == (st.st_mode & 07777));
}

}  // namespace

TEST_CASE("walk reports every field of every entry", "[walker]") {
  test::TempDir tmp;
  auto tree = test::build_tree(tmp.path() / "src");
  const fs::path& r = tree.root;
  Recorder rec;
  REQUIRE(walk({r}, {}, rec).ok());

  // Depth first, children sorted bytewise (0xff last, not first as a
  // signed char comparison would put it).
  std::vector<std::string> top = {"acl",
                                  "acldir",
                                  "dangling",
                                  "empty",
                                  "fifo",
                                  "file.txt",
                                  "hard1",
                                  "hard2",
                                  "link",
                                  "longlink",
                                  test::newline_name,
                                  "owned",
                                  "private",
                                  "setuid",
                                  "sparse",
                                  "unknown-owner",
                                  "with space",
                                  "xattr",
                                  test::invalid_utf8_name};
  if (tree.has_device) top.push_back("null");
  std::sort(top.begin(), top.end());
  REQUIRE(top.back() == test::invalid_utf8_name);
  std::vector<fs::path> expected = {r};
  for (const auto& name : top) {
    expected.push_back(r / name);
    if (name == "acldir") expected.push_back(r / "acldir" / "child");
    if (name == "private") expected.push_back(r / "private" / "inner");
  }
  CHECK(rec.paths() == expected);
  // enter/leave bracket each directory's children.
  REQUIRE(rec.events.front().kind == Event::enter);
  REQUIRE(rec.events.back().kind == Event::leave);
  CHECK(rec.events.back().path == r);
  for (size_t i = 0; i < rec.events.size(); ++i) {
    if (rec.events[i].kind == Event::enter && rec.events[i].path == r / "private") {
      REQUIRE(i + 2 < rec.events.size());
      CHECK(rec.events[i + 1].path == r / "private" / "inner");
      CHECK(rec.events[i + 2].kind == Event::leave);
      CHECK(rec.events[i + 2].path == r / "private");
    }
    CHECK(rec.events[i].kind != Event::skipped);
  }

  struct passwd* nobody = ::getpwuid(65534);
  struct group* nogroup = ::getgrgid(65534);
  for (const auto& e : rec.events) {
    if (e.kind == Event::leave) continue;
    const Node& n = e.node;
    const std::string name = e.path.filename().string();
    INFO("entry " << e.path);
    check_against_lstat(e.path, n);
    bool is_dir = e.path == r || name == "private" || name == "acldir";
    CHECK(n.type ==
          (is_dir ? NodeType::dir
           : name == "link" || name.find("ling") != std::string::npos || name == "longlink"
               ? NodeType::symlink
           : name == "fifo" ? NodeType::fifo
           : name == "null" ? NodeType::chardev
                            : NodeType::file));
    CHECK(n.mtime_ns == (is_dir ? test::dir_mtime_ns : test::file_mtime_ns));
    CHECK(n.atime_ns == (is_dir ? test::dir_atime_ns : test::file_atime_ns));
    if (name == "owned") {
      CHECK(n.uid == 65534);
      CHECK(n.gid == 65534);
      CHECK(n.user == (nobody ? nobody->pw_name : ""));
      CHECK(n.group == (nogroup ? nogroup->gr_name : ""));
      CHECK(!n.user.empty());
    } else if (name == "unknown-owner") {
      CHECK(n.uid == 123456);
      CHECK(n.gid == 123457);
      CHECK(n.user.empty());
      CHECK(n.group.empty());
    } else {
      CHECK(n.uid == 0);
      CHECK(n.gid == 0);
      CHECK(n.user == "root");
      CHECK(n.group == "root");
    }
    CHECK(n.sparse == (name == "sparse"));
    CHECK(n.rdev == (name == "null" ? makedev(1, 3) : 0));
    if (n.type != NodeType::symlink) CHECK(n.link_target.empty());
    if (name != "xattr" && !(tree.has_acl && (name == "acl" || name == "acldir"))) {
      CHECK(n.xattrs.empty());
    }
  }

  auto node = [&](const fs::path& p) -> const Node& {
    const Event* e = rec.find(p);
    REQUIRE(e != nullptr);
    return e->node;
  };
  CHECK(node(r).name == "src");
  CHECK(node(r).mode == 0755);
  CHECK(node(r).nlink == 4);
  CHECK(node(r / "private").mode == 0750);
  CHECK(node(r / "setuid").mode == 04755);
  CHECK(node(r / "empty").mode == 0600);
  CHECK(node(r / "empty").size == 0);
  CHECK(node(r / "fifo").mode == 0640);
  CHECK(node(r / "file.txt").size == test::file_content.size());
  CHECK(node(r / "sparse").size == test::sparse_size);
  CHECK(node(r / "link").link_target == "file.txt");
  CHECK(node(r / "link").size == 8);
  CHECK(node(r / "dangling").link_target == "does/not/exist");
  CHECK(node(r / "longlink").link_target == tree.long_target);
  CHECK(node(r / "longlink").link_target.size() > 3900);
  CHECK(node(r / test::newline_name).name == test::newline_name);
  CHECK(node(r / test::invalid_utf8_name).size == 7);
  // Hard links: same inode and device, nlink 2; dedup is the engine's job.
  CHECK(node(r / "hard1").inode == node(r / "hard2").inode);
  CHECK(node(r / "hard1").device == node(r / "hard2").device);
  CHECK(node(r / "hard1").nlink == 2);
  CHECK(node(r / "file.txt").nlink == 1);
  if (tree.has_device) CHECK(node(r / "null").mode == 0666);

  const auto& x = node(r / "xattr").xattrs;
  REQUIRE(x.size() == 1);
  CHECK(x[0].name == "user.test");
  CHECK(x[0].value == test::xattr_value);
  if (tree.has_acl) {
    CHECK(xattr_names(node(r / "acl")) == std::vector<std::string>{"system.posix_acl_access"});
    CHECK(xattr_names(node(r / "acldir")) == std::vector<std::string>{"system.posix_acl_default"});
    util::Bytes raw(256);
    ssize_t n = ::lgetxattr((r / "acl").c_str(), "system.posix_acl_access", raw.data(), raw.size());
    REQUIRE(n > 0);
    raw.resize(static_cast<size_t>(n));
    CHECK(node(r / "acl").xattrs[0].value == raw);
    CHECK(node(r / "acldir" / "child").xattrs.empty());
  }

  // stat_path reports what the walk reported.
  auto s = stat_path(r / "xattr");
  REQUIRE(s.ok());
  CHECK(s->xattrs[0].value == test::xattr_value);
  CHECK(s->mtime_ns == test::file_mtime_ns);
  CHECK(s->inode == node(r / "xattr").inode);
}

TEST_CASE("roots are normalised, not followed, and checked before walking", "[walker]") {
  test::TempDir tmp;
  auto tree = test::build_tree(tmp.path() / "src");
  SECTION("a file root and a symlink root are single entries") {
    Recorder rec;
    REQUIRE(walk({tree.root / "file.txt", tree.root / "link"}, {}, rec).ok());
    REQUIRE(rec.events.size() == 2);
    CHECK(rec.events[0].kind == Event::entry);
    CHECK(rec.events[1].node.type == NodeType::symlink);
    CHECK(rec.events[1].node.link_target == "file.txt");
  }
  SECTION("dot-dot, trailing slash and relative roots") {
    Recorder rec;
    auto old = fs::current_path();
    fs::current_path(tmp.path());
    auto st = walk({"src/private/../private/", "./src/acldir/."}, {}, rec);
    fs::current_path(old);
    REQUIRE(st.ok());
    REQUIRE(rec.events.size() == 6);
    CHECK(rec.events[0].path == tree.root / "private");
    CHECK(rec.events[0].node.name == "private");
    CHECK(rec.events[3].path == tree.root / "acldir");
  }
  SECTION("a missing root fails before anything is visited") {
    Recorder rec;
    auto st = walk({tree.root, tree.root / "nope"}, {}, rec);
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().kind == util::ErrorKind::not_found);
    CHECK(st.error().message.find("nope'") != std::string::npos);
    CHECK(rec.events.empty());
  }
  SECTION("an invalid exclude pattern is a usage error") {
    Recorder rec;
    WalkOptions o;
    o.excludes = {""};
    auto st = walk({tree.root}, o, rec);
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().kind == util::ErrorKind::usage);
  }
}

namespace {

class Failing : public Recorder {
 public:
  explicit Failing(Event::Kind k) : kind_(k) {}
  util::Status enter_dir(const fs::path& p, const Node& n) override {
    if (kind_ == Event::enter && p.filename() == "private") return fail();
    return Recorder::enter_dir(p, n);
  }
  util::Status leave_dir(const fs::path& p, const Node& n) override {
    if (kind_ == Event::leave && p.filename() == "private") return fail();
    return Recorder::leave_dir(p, n);
  }
  util::Status entry(const fs::path& p, const Node& n) override {
    if (kind_ == Event::entry && p.filename() == "inner") return fail();
    return Recorder::entry(p, n);
  }

 private:
  static util::Status fail() { return util::fail(util::ErrorKind::interrupted, "stop"); }
  Event::Kind kind_;
};

}  // namespace

TEST_CASE("a visitor error aborts the walk", "[walker]") {
  test::TempDir tmp;
  auto tree = test::build_tree(tmp.path() / "src");
  for (auto kind : {Event::enter, Event::leave, Event::entry}) {
    Failing rec(kind);
    auto st = walk({tree.root}, {}, rec);
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().kind == util::ErrorKind::interrupted);
    CHECK(rec.find(tree.root / "setuid") == nullptr);  // after "private"
  }
}

TEST_CASE("an entry that vanishes during the walk is skipped", "[walker]") {
  test::TempDir tmp;
  auto root = tmp.path() / "t";
  fs::create_directories(root / "c");
  for (const char* n : {"a", "b", "d"}) test::write_text(root / n, n);
  Recorder rec;
  // Listed, then gone before lstat: the walker lstats each entry lazily.
  rec.on_entry = [&](const fs::path& p) {
    if (p.filename() == "a") {
      fs::remove(root / "b");
      fs::remove(root / "c");
    }
  };
  REQUIRE(walk({root}, {}, rec).ok());
  std::vector<std::string> kinds;
  for (const auto& e : rec.events) {
    kinds.push_back(std::to_string(e.kind) + ":" + e.path.filename().string());
  }
  CHECK(kinds == std::vector<std::string>{"0:t", "2:a", "3:b", "3:c", "2:d", "1:t"});
  CHECK(rec.events[2].error.find("'" + (root / "b").string() + "'") != std::string::npos);
}

namespace {

struct Mount {
  fs::path at;
  bool ok = false;
  explicit Mount(const fs::path& p) : at(p) {
    ok = ::mount("bkp-test", p.c_str(), "tmpfs", 0, "size=1m") == 0;
  }
  ~Mount() {
    if (ok) ::umount2(at.c_str(), MNT_DETACH);
  }
};

}  // namespace

TEST_CASE("one file system keeps mount points as empty directories", "[walker]") {
  test::TempDir tmp;
  auto root = tmp.path() / "t";
  fs::create_directories(root / "mnt");
  test::write_text(root / "z", "after");
  Mount m(root / "mnt");
  if (!m.ok) {
    std::printf("BKP-SKIP: cannot mount a tmpfs, one-file-system not tested\n");
    return;
  }
  test::write_text(root / "mnt" / "inside", "other fs");
  fs::create_directories(root / "mnt" / "sub");

  Recorder cross;
  REQUIRE(walk({root}, {}, cross).ok());
  CHECK(cross.find(root / "mnt" / "inside") != nullptr);
  CHECK(cross.find(root / "mnt" / "sub") != nullptr);

  Recorder one;
  WalkOptions o;
  o.file_systems = FileSystems::one;
  REQUIRE(walk({root}, o, one).ok());
  CHECK(one.paths() == std::vector<fs::path>{root, root / "mnt", root / "z"});
  REQUIRE(one.events.size() == 5);
  CHECK(one.events[1].kind == Event::enter);
  CHECK(one.events[2].kind == Event::leave);
  CHECK(one.events[2].path == root / "mnt");
  // The mount point carries the mounted root's metadata (another device).
  CHECK(one.events[1].node.device != one.events[0].node.device);

  // A root on the other file system is walked in full: it is its own root.
  Recorder inner;
  REQUIRE(walk({root / "mnt"}, o, inner).ok());
  CHECK(inner.find(root / "mnt" / "inside") != nullptr);
}
