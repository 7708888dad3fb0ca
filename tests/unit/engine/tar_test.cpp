// restore_to_tar: the archive, read back with libarchive, holds every entry
// with its content and metadata.
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <map>

#include "engine/restore.hpp"
#include "engine_fixture.hpp"

using namespace bkp;
using namespace bkp::test;

namespace {

constexpr std::int64_t kMtime = 1'600'000'000'123'456'789;

struct Entry {
  mode_t type = 0;
  mode_t perms = 0;
  std::int64_t uid = -1, gid = -1;
  std::string uname;
  std::int64_t mtime_s = 0;
  long mtime_ns = 0;
  std::string symlink, hardlink;
  util::Bytes data;
  std::map<std::string, util::Bytes> xattrs;
};

std::map<std::string, Entry> read_tar(const fs::path& file) {
  std::map<std::string, Entry> out;
  archive* a = archive_read_new();
  archive_read_support_format_tar(a);
  REQUIRE(archive_read_open_filename(a, file.c_str(), 65536) == ARCHIVE_OK);
  archive_entry* e = nullptr;
  int rc;
  while ((rc = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
    Entry x;
    x.type = archive_entry_filetype(e);
    x.perms = archive_entry_perm(e);
    x.uid = archive_entry_uid(e);
    x.gid = archive_entry_gid(e);
    x.uname = archive_entry_uname(e) ? archive_entry_uname(e) : "";
    x.mtime_s = archive_entry_mtime(e);
    x.mtime_ns = archive_entry_mtime_nsec(e);
    if (auto* s = archive_entry_symlink(e)) x.symlink = s;
    if (auto* h = archive_entry_hardlink(e)) x.hardlink = h;
    const char* name;
    const void* value;
    size_t size;
    archive_entry_xattr_reset(e);
    while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
      auto* v = static_cast<const std::uint8_t*>(value);
      x.xattrs[name] = util::Bytes(v, v + size);
    }
    char buf[65536];
    la_ssize_t n;
    while ((n = archive_read_data(a, buf, sizeof buf)) > 0) {
      x.data.insert(x.data.end(), buf, buf + n);
    }
    REQUIRE(n == 0);
    std::string path = archive_entry_pathname(e);
    if (path.size() > 1 && path.back() == '/') path.pop_back();  // directories
    out[path] = std::move(x);
  }
  CHECK(rc == ARCHIVE_EOF);
  archive_read_free(a);
  return out;
}

engine::RestoreReport to_tar(RepoFixture& f, const repo::Snapshot& snap,
                             const engine::RestoreFilter& filter, const fs::path& file) {
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  REQUIRE(fd >= 0);
  auto r = engine::restore_to_tar(f.repo(), snap, filter, fd);
  ::close(fd);
  REQUIRE_OK(r);
  return std::move(r).value();
}

}  // namespace

TEST_CASE("restore to a tar archive", "[restore][tar]") {
  RepoFixture f;
  const fs::path src = f.root() / "src";
  fs::create_directories(src / "dir");
  const auto big = random_bytes(3 << 20, 21);
  write_file(src / "big", big, 0640);
  write_file(src / "dir" / "small", "small", 0600);
  write_file(src / "empty", "", 0644);
  write_file(src / "hard1", "shared", 0644);
  REQUIRE(::link((src / "hard1").c_str(), (src / "hard2").c_str()) == 0);
  REQUIRE(::lchown((src / "dir" / "small").c_str(), 65534, 65534) == 0);
  const std::string xv = "value\x01";
  REQUIRE(::lsetxattr((src / "big").c_str(), "user.note", xv.data(), xv.size(), 0) == 0);
  REQUIRE(::symlink("dir/small", (src / "link").c_str()) == 0);
  REQUIRE(::mkfifo((src / "fifo").c_str(), 0600) == 0);
  for (auto& e : fs::recursive_directory_iterator(src)) set_mtime(e.path(), kMtime);
  set_mtime(src, kMtime);
  auto snap = f.backup({src}).snapshot;
  const std::string base = src.relative_path().string();

  SECTION("everything") {
    auto report = to_tar(f, snap, {}, f.root() / "all.tar");
    CHECK(report.files == 5);
    CHECK(report.others == 2);
    CHECK(report.bytes == big.size() + 5 + 6);
    auto tar = read_tar(f.root() / "all.tar");
    // The parents of the root come first, as directories.
    REQUIRE(tar.count(fs::path(base).parent_path().string()));
    CHECK(tar[fs::path(base).parent_path().string()].type == AE_IFDIR);

    auto& b = tar.at(base + "/big");
    CHECK(b.type == AE_IFREG);
    CHECK(b.perms == 0640);
    CHECK(b.data == big);
    CHECK(b.mtime_s == kMtime / 1'000'000'000);
    CHECK(b.mtime_ns == kMtime % 1'000'000'000);
    CHECK(b.xattrs["user.note"] == util::to_bytes(xv));
    CHECK(b.uid == 0);
    CHECK(b.uname == "root");

    auto& s = tar.at(base + "/dir/small");
    CHECK(s.data == util::to_bytes("small"));
    CHECK(s.uid == 65534);
    CHECK(s.perms == 0600);
    CHECK(tar.at(base + "/dir").type == AE_IFDIR);
    CHECK(tar.at(base + "/empty").data.empty());
    CHECK(tar.at(base + "/link").type == AE_IFLNK);
    CHECK(tar.at(base + "/link").symlink == "dir/small");
    CHECK(tar.at(base + "/fifo").type == AE_IFIFO);
    // The second name of a hard link is a link to the first.
    CHECK(tar.at(base + "/hard1").data == util::to_bytes("shared"));
    CHECK(tar.at(base + "/hard2").hardlink == base + "/hard1");
    CHECK(tar.at(base + "/hard2").data.empty());

    // GNU tar agrees.
    if (::access("/bin/tar", X_OK) == 0) {
      fs::create_directories(f.root() / "untar");
      std::string cmd = "/bin/tar -xpf '" + (f.root() / "all.tar").string() + "' -C '" +
                        (f.root() / "untar").string() +
                        "' --xattrs --xattrs-include='*' --warning=no-unknown-keyword";
      REQUIRE(std::system(cmd.c_str()) == 0);
      auto diffs = compare_trees(src, f.root() / "untar" / base);
      INFO(fmt_diffs(diffs));
      CHECK(diffs.empty());
    }
  }

  SECTION("a selection") {
    auto report = to_tar(f, snap, {{(src / "dir").string()}, {}}, f.root() / "some.tar");
    CHECK(report.files == 1);
    auto tar = read_tar(f.root() / "some.tar");
    CHECK(tar.size() == 2);  // the directory and its file
    CHECK(tar.count(base + "/dir"));
    CHECK(tar.count(base + "/dir/small"));
  }

  SECTION("only the second name of a hard link") {
    to_tar(f, snap, {{(src / "hard2").string()}, {}}, f.root() / "h.tar");
    auto tar = read_tar(f.root() / "h.tar");
    REQUIRE(tar.size() == 1);
    CHECK(tar.at(base + "/hard2").data == util::to_bytes("shared"));
  }

  SECTION("an unwritable descriptor") {
    int fd = ::open("/dev/null", O_RDONLY);
    REQUIRE(fd >= 0);
    auto r = engine::restore_to_tar(f.repo(), snap, {}, fd);
    ::close(fd);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("tar") == 0);
  }

  SECTION("a damaged repository") {
    auto chunks = chunks_of(f.repo(), snap, (src / "big").string());
    for (auto& p : packs_of(f.repo(), chunks)) fs::remove(f.storage() / p);
    int fd = ::open((f.root() / "bad.tar").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    auto r = engine::restore_to_tar(f.repo(), snap, {}, fd);
    ::close(fd);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == util::ErrorKind::verification);
  }
}

TEST_CASE("special files in a tar archive", "[restore][tar]") {
  RepoFixture f;
  const fs::path src = f.root() / "src";
  fs::create_directories(src);
  write_file(src / "file", "file");
  bool device = ::mknod((src / "null").c_str(), S_IFCHR | 0666, makedev(1, 3)) == 0;
  int s = ::socket(AF_UNIX, SOCK_STREAM, 0);
  REQUIRE(s >= 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::string sock = (src / "sock").string();
  REQUIRE(sock.size() < sizeof addr.sun_path);
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", sock.c_str());
  REQUIRE(::bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  ::close(s);
  auto snap = f.backup({src}).snapshot;
  const std::string base = src.relative_path().string();

  // A socket cannot be archived: it is left out with a warning, as a
  // directory restore does, and the rest is there.
  auto report = to_tar(f, snap, {}, f.root() / "special.tar");
  CHECK(report.partial);
  REQUIRE(report.warnings.size() == 1);
  CHECK(report.warnings[0].find(sock) != std::string::npos);
  auto tar = read_tar(f.root() / "special.tar");
  CHECK(tar.at(base + "/file").data == util::to_bytes("file"));
  CHECK_FALSE(tar.count(base + "/sock"));
  if (device) {
    REQUIRE(tar.count(base + "/null"));
    CHECK(tar.at(base + "/null").type == AE_IFCHR);
  }
}

TEST_CASE("odd names in a tar archive", "[restore][tar]") {
  RepoFixture f;
  const fs::path src = f.root() / "src";
  fs::create_directories(src);
  const std::string long_name(200, 'n');
  std::string long_target;
  while (long_target.size() < 3000) long_target += "component/";
  write_file(src / "\xff\xfe", "invalid utf-8");
  write_file(src / "new\nline", "newline");
  write_file(src / long_name, "long");
  write_file(src / "caf\xc3\xa9", "utf-8");
  REQUIRE(::symlink(long_target.c_str(), (src / "longlink").c_str()) == 0);
  auto snap = f.backup({src}).snapshot;
  const std::string base = src.relative_path().string();

  auto report = to_tar(f, snap, {}, f.root() / "odd.tar");
  CHECK(report.files == 4);
  auto tar = read_tar(f.root() / "odd.tar");
  REQUIRE(tar.count(base + "/\xff\xfe"));
  CHECK(tar.at(base + "/\xff\xfe").data == util::to_bytes("invalid utf-8"));
  REQUIRE(tar.count(base + "/new\nline"));
  CHECK(tar.at(base + "/new\nline").data == util::to_bytes("newline"));
  REQUIRE(tar.count(base + "/" + long_name));
  REQUIRE(tar.count(base + "/caf\xc3\xa9"));
  REQUIRE(tar.count(base + "/longlink"));
  CHECK(tar.at(base + "/longlink").symlink == long_target);
}
