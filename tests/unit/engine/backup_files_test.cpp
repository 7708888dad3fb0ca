// backup_files then restore_to_directory: every kind of entry and all the
// metadata come back bit for bit; several roots; nested roots; bad roots.
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstdio>

#include "engine/tree_walk.hpp"
#include "engine_fixture.hpp"
#include "util/host.hpp"
#include "util/subprocess.hpp"

using namespace bkp;
using namespace bkp::test;
using engine::BackupType;

namespace {

constexpr std::int64_t kMtime = 1'600'000'000'123'456'789;
constexpr std::int64_t kDirMtime = 1'650'000'000'000'000'001;
const util::Bytes kXattr = {0x00, 0x01, 'b', 'i', 'n', 0x00, 0xff};

struct Built {
  std::size_t regular_files = 0;  // directory entries that are regular files
  std::size_t others = 0;         // symlinks, fifos, devices
  bool has_device = false;
};

// A tree with every kind of entry the files source handles.
Built build_tree(const fs::path& src) {
  Built b;
  fs::create_directories(src / "sub" / "deeper" / "deepest");
  fs::create_directories(src / "emptydir");
  fs::create_directories(src / "private");
  auto file = [&](const fs::path& rel, const util::Bytes& data, mode_t mode) {
    write_file(src / rel, data, mode);
    ++b.regular_files;
  };
  file("big.bin", random_bytes(12 << 20, 1), 0644);  // > max chunk size: several chunks
  file("empty", {}, 0600);
  file("text.txt", util::to_bytes("hello, world\n"), 0640);
  REQUIRE(::lsetxattr((src / "text.txt").c_str(), "user.test", kXattr.data(), kXattr.size(), 0) ==
          0);
  file("setuid", util::to_bytes("#!/bin/sh\n"), 04755);
  file("new\nline", util::to_bytes("newline"), 0644);
  file("\xff\xfe", util::to_bytes("invalid utf-8"), 0644);
  file("with space", util::to_bytes("space"), 0644);
  file("-dash", util::to_bytes("dash"), 0644);
  file("*glob?", util::to_bytes("glob"), 0644);
  file("sub/deeper/deepest/file", util::to_bytes("deep"), 0644);
  file("private/inner", util::to_bytes("inner"), 0600);
  REQUIRE(::lchown((src / "private" / "inner").c_str(), 65534, 65534) == 0);
  file("unknown-owner", util::to_bytes("?"), 0644);
  REQUIRE(::lchown((src / "unknown-owner").c_str(), 123456, 123457) == 0);
  file("hard1", util::to_bytes("linked content"), 0644);
  REQUIRE(::link((src / "hard1").c_str(), (src / "hard2").c_str()) == 0);
  REQUIRE(::link((src / "hard1").c_str(), (src / "sub" / "hard3").c_str()) == 0);
  b.regular_files += 2;
  REQUIRE(::symlink("text.txt", (src / "link").c_str()) == 0);
  REQUIRE(::symlink("does/not/exist", (src / "dangling").c_str()) == 0);
  REQUIRE(::mkfifo((src / "fifo").c_str(), 0640) == 0);
  b.others = 3;
  if (::mknod((src / "null").c_str(), S_IFCHR | 0666, makedev(1, 3)) == 0) {
    ::chmod((src / "null").c_str(), 0666);
    b.has_device = true;
    ++b.others;
  } else {
    std::printf("BKP-SKIP: mknod failed, devices not tested\n");
  }
  if (::access("/usr/bin/setfacl", X_OK) == 0) {
    auto a =
        util::run_capture({"/usr/bin/setfacl", "-m", "u:nobody:r", (src / "text.txt").string()});
    REQUIRE(a.ok());
    REQUIRE(a->status == 0);
  }
  REQUIRE(::chmod((src / "private").c_str(), 0750) == 0);
  REQUIRE(::chmod((src / "emptydir").c_str(), 0700) == 0);
  for (auto& e : fs::recursive_directory_iterator(src)) {
    if (e.symlink_status().type() != fs::file_type::directory) set_mtime(e.path(), kMtime);
  }
  for (auto d : {src / "sub" / "deeper" / "deepest", src / "sub" / "deeper", src / "sub",
                 src / "emptydir", src / "private", src}) {
    set_mtime(d, kDirMtime);
  }
  return b;
}

}  // namespace

TEST_CASE("a full backup restores bit for bit", "[backup][restore]") {
  RepoFixture f;
  const fs::path src = f.root() / "src";
  auto built = build_tree(src);

  std::uint64_t progress_calls = 0, last_bytes = 0;
  engine::FileBackupOptions o;
  o.paths = {src};
  o.tags = {"daily"};
  auto report = engine::backup_files(f.repo(), o, [&](const engine::BackupProgress& p) {
    ++progress_calls;
    CHECK(p.bytes_read >= last_bytes);
    last_bytes = p.bytes_read;
  });
  REQUIRE_OK(report);
  CHECK_FALSE(report->partial);
  CHECK(report->warnings.empty());
  CHECK(progress_calls > 10);
  CHECK(last_bytes > (12u << 20));

  const auto& snap = report->snapshot;
  CHECK(snap.backup_type == "full");  // no parent yet, whatever was asked
  CHECK(snap.parent.empty());
  CHECK(snap.source_kind == "files");
  CHECK(snap.paths == std::vector<std::string>{src.string()});
  CHECK(snap.source_name == util::host_name() + ":" + src.string());
  CHECK(snap.tags == std::vector<std::string>{"daily"});
  CHECK(snap.username == util::user_name());
  CHECK(snap.stats["files_new"] == built.regular_files);
  CHECK(snap.stats["files_unmodified"] == 0);
  CHECK(snap.stats["files_changed"] == 0);
  CHECK(snap.stats["other"] == built.others);
  CHECK(snap.stats["partial"] == false);
  CHECK(snap.stats["total_bytes"].get<std::uint64_t>() > (12u << 20));
  // Hard links are stored once, so new raw bytes are about the big file.
  CHECK(snap.stats["raw_bytes_new"].get<std::uint64_t>() > (12u << 20));
  CHECK(snap.stats["raw_bytes_new"].get<std::uint64_t>() < (12u << 20) + (64u << 10));
  CHECK(f.objects("snapshots/") == std::vector<std::string>{"snapshots/" + snap.id});

  auto row = f.repo().catalog().get_backup(snap.id);
  REQUIRE_OK(row);
  REQUIRE(row->has_value());
  CHECK((*row)->status == "completed");
  CHECK((*row)->backup_type == "full");

  // The big file is in several chunks; the hard links share theirs.
  CHECK(chunks_of(f.repo(), snap, (src / "big.bin").string()).size() >= 3);
  CHECK(chunks_of(f.repo(), snap, (src / "hard1").string()) ==
        chunks_of(f.repo(), snap, (src / "sub" / "hard3").string()));
  CHECK(chunks_of(f.repo(), snap, (src / "empty").string()).empty());

  SECTION("restored into an empty directory") {
    const fs::path target = f.root() / "restore";
    std::uint64_t restore_calls = 0;
    engine::RestoreOptions ro;
    ro.target = target;
    auto restored = engine::restore_to_directory(
        f.repo(), snap, ro, [&](const engine::RestoreProgress&) { ++restore_calls; });
    REQUIRE_OK(restored);
    CHECK(restored->warnings.empty());
    CHECK_FALSE(restored->partial);
    CHECK(restored->files == built.regular_files);
    CHECK(restored->others == built.others);
    CHECK(restored->bytes == (12u << 20) + 13 + 10 + 7 + 13 + 5 + 4 + 4 + 4 + 5 + 1 + 14);
    CHECK(restore_calls > 0);
    CHECK(!restored->job_id.empty());
    auto diffs = compare_trees(src, under(target, src));
    INFO(fmt_diffs(diffs));
    CHECK(diffs.empty());
    // The restored hard links are one inode.
    struct stat a {
    }, c{};
    REQUIRE(::lstat(under(target, src / "hard1").c_str(), &a) == 0);
    REQUIRE(::lstat(under(target, src / "sub" / "hard3").c_str(), &c) == 0);
    CHECK(a.st_ino == c.st_ino);
    CHECK(a.st_nlink == 3);
  }

  SECTION("after a reopen with a rebuilt catalog") {
    f.reopen(true);
    REQUIRE_OK(f.repo().sync_catalog());
    const fs::path target = f.root() / "restore2";
    f.restore(snap, target);
    auto diffs = compare_trees(src, under(target, src));
    INFO(fmt_diffs(diffs));
    CHECK(diffs.empty());
  }
}

TEST_CASE("several roots and nested roots", "[backup]") {
  RepoFixture f;
  const fs::path a = f.root() / "a";
  fs::create_directories(a / "b" / "x");
  fs::create_directories(a / "c");
  fs::create_directories(a / "d");
  write_file(a / "b" / "x" / "one", "one");
  write_file(a / "c" / "two", "two");
  write_file(a / "d" / "not-backed-up", "three");
  write_file(a / "file", "a file as a root");

  SECTION("siblings, a file, duplicates and a root inside another") {
    auto r = f.backup({a / "c", a / "b", a / "b" / "x", a / "c/", a / "file"});
    CHECK(r.snapshot.paths ==
          std::vector<std::string>{(a / "b").string(), (a / "c").string(), (a / "file").string()});
    const fs::path target = f.root() / "restore";
    f.restore(r.snapshot, target);
    CHECK(compare_trees(a / "b", under(target, a / "b")).empty());
    CHECK(compare_trees(a / "c", under(target, a / "c")).empty());
    CHECK(read_text(under(target, a / "file")) == "a file as a root");
    CHECK_FALSE(fs::exists(under(target, a / "d")));
    // The parent of the roots has its own metadata back.
    struct stat st {};
    REQUIRE(::lstat(under(target, a).c_str(), &st) == 0);
    CHECK(st.st_mtim.tv_sec == mtime_of(a) / 1'000'000'000);
  }

  SECTION("roots in different branches") {
    fs::create_directories(f.root() / "other" / "deep");
    write_file(f.root() / "other" / "deep" / "z", "z");
    auto r = f.backup({f.root() / "other" / "deep", a / "b", a / "c" / "two"});
    const fs::path target = f.root() / "restore";
    f.restore(r.snapshot, target);
    CHECK(read_text(under(target, f.root() / "other" / "deep" / "z")) == "z");
    CHECK(read_text(under(target, a / "b" / "x" / "one")) == "one");
    CHECK(read_text(under(target, a / "c" / "two")) == "two");
    auto node = engine::find_node(f.repo(), r.snapshot.tree, (a / "c").string());
    REQUIRE_OK(node);
    CHECK(node->meta.type == sources::NodeType::dir);
  }

  SECTION("a root given as a relative path") {
    auto cwd = fs::current_path();
    fs::current_path(a);
    engine::FileBackupOptions o;
    o.paths = {"c"};
    auto r = engine::backup_files(f.repo(), o);
    fs::current_path(cwd);
    REQUIRE_OK(r);
    CHECK(r->snapshot.paths == std::vector<std::string>{(a / "c").string()});
  }

  SECTION("a root below a symlinked directory") {
    fs::create_symlink(a, f.root() / "alias");
    auto r = f.backup({f.root() / "alias" / "c"});
    const fs::path target = f.root() / "restore";
    auto restored = f.restore(r.snapshot, target);
    CHECK(restored.files == 1);
    // Stored under the real directory, which is restored as a directory.
    const fs::path real = fs::canonical(a) / "c";
    CHECK(r.snapshot.paths == std::vector<std::string>{real.string()});
    CHECK(read_text(under(target, real / "two")) == "two");
    CHECK(fs::symlink_status(under(target, real.parent_path())).type() == fs::file_type::directory);
  }

  SECTION("bad roots") {
    engine::FileBackupOptions o;
    auto none = engine::backup_files(f.repo(), o);
    REQUIRE_FALSE(none.ok());
    CHECK(none.error().kind == util::ErrorKind::usage);
    o.paths = {a / "missing"};
    auto missing = engine::backup_files(f.repo(), o);
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().kind == util::ErrorKind::not_found);
    CHECK(missing.error().message.find("missing") != std::string::npos);
    o.paths = {"/"};
    auto slash = engine::backup_files(f.repo(), o);
    REQUIRE_FALSE(slash.ok());
    CHECK(slash.error().kind == util::ErrorKind::usage);
    CHECK(f.objects("snapshots/").empty());
  }
}

TEST_CASE("sockets are recorded but not restored", "[backup][restore]") {
  RepoFixture f;
  const fs::path src = f.root() / "src";
  fs::create_directories(src);
  write_file(src / "file", "data");
  int s = ::socket(AF_UNIX, SOCK_STREAM, 0);
  REQUIRE(s >= 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::string sock = (src / "sock").string();
  REQUIRE(sock.size() < sizeof addr.sun_path);
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", sock.c_str());
  REQUIRE(::bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  ::close(s);

  auto r = f.backup({src});
  CHECK(r.snapshot.stats["other"] == 1);
  auto node = engine::find_node(f.repo(), r.snapshot.tree, sock);
  REQUIRE_OK(node);
  CHECK(node->meta.type == sources::NodeType::socket);

  auto restored = f.restore(r.snapshot, f.root() / "restore");
  CHECK(restored.partial);
  REQUIRE(restored.warnings.size() == 1);
  CHECK(restored.warnings[0].find("sock") != std::string::npos);
  CHECK(read_text(under(f.root() / "restore", src / "file")) == "data");
  CHECK_FALSE(fs::exists(fs::symlink_status(under(f.root() / "restore", src / "sock"))));
}

TEST_CASE("a file whose read fails is skipped", "[backup]") {
  RepoFixture f;
  const fs::path src = f.root() / "src";
  fs::create_directories(src);
  write_file(src / "fine", "fine");
  // Reading /proc/<pid>/mem at offset 0 fails with EIO: the open succeeds,
  // the first read does not.
  auto r = f.backup({"/proc/self/mem", src});
  CHECK(r.partial);
  const std::string mem = "/proc/" + std::to_string(::getpid()) + "/mem";
  REQUIRE(r.warnings.size() == 1);
  CHECK(r.warnings[0].find("skipped '" + mem + "': reading '" + mem + "'") == 0);
  CHECK(r.warnings[0].find("Input/output error") != std::string::npos);
  CHECK(r.snapshot.stats["partial"] == true);
  CHECK(r.snapshot.stats["files_new"] == 1);
  CHECK_FALSE(engine::find_node(f.repo(), r.snapshot.tree, mem).ok());
  auto fine = engine::find_node(f.repo(), r.snapshot.tree, (src / "fine").string());
  REQUIRE_OK(fine);
}

TEST_CASE("a storage failure ends the backup", "[backup]") {
  RepoFixture f(small_options());
  const fs::path src = f.root() / "src";
  fs::create_directories(src);
  // More than the sealing queue (16 MiB) and the pack writer's queue hold,
  // so pack writes must have failed, and been reported, before "small".
  write_file(src / "big", random_bytes(20 << 20, 8));
  write_file(src / "small", "small");
  // Packs go to "data/..": a file in its place makes every pack write fail.
  REQUIRE(f.objects("data/").empty());
  write_file(f.storage() / "data", "in the way");
  engine::FileBackupOptions o;
  o.paths = {src};
  // Should the backup go on past the failure (as if the file could not be
  // read), storage recovers: the end of the backup would succeed.
  auto r = engine::backup_files(f.repo(), o, [&](const engine::BackupProgress& p) {
    if (p.current == (src / "small").string()) fs::remove(f.storage() / "data");
  });
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind == util::ErrorKind::io);
  CHECK(f.objects("snapshots/").empty());
  auto rows = f.repo().catalog().list_backups();
  REQUIRE_OK(rows);
  CHECK(rows->empty());
}

TEST_CASE("excludes and a symlink as a root", "[backup]") {
  RepoFixture f;
  const fs::path src = f.root() / "src";
  fs::create_directories(src / "cache");
  write_file(src / "keep.txt", "keep");
  write_file(src / "drop.tmp", "drop");
  write_file(src / "cache" / "x", "x");
  fs::create_symlink(src, f.root() / "link-to-src");

  engine::FileBackupOptions o;
  o.paths = {src, f.root() / "link-to-src"};
  o.walk.excludes = {"*.tmp", "cache/"};
  auto r = engine::backup_files(f.repo(), o);
  REQUIRE_OK(r);
  const fs::path target = f.root() / "restore";
  f.restore(r->snapshot, target);
  CHECK(read_text(under(target, src / "keep.txt")) == "keep");
  CHECK_FALSE(fs::exists(under(target, src / "drop.tmp")));
  CHECK_FALSE(fs::exists(under(target, src / "cache")));
  // The symlink root is a symlink, not what it points to.
  auto link = under(target, f.root() / "link-to-src");
  CHECK(fs::is_symlink(link));
  CHECK(fs::read_symlink(link) == src);
}
