#include "engine_fixture.hpp"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <random>
#include <set>

#include "engine/tree_walk.hpp"
#include "storage/local.hpp"

namespace bkp::test {

repo::Credentials test_credentials() {
  repo::Credentials c;
  c.kind = repo::SlotKind::passphrase;
  c.secret = util::SecretBytes(util::as_bytes("correct horse battery staple"));
  return c;
}

repo::InitOptions small_options() {
  repo::InitOptions o;
  o.chunker.min_size = 4 * 1024;
  o.chunker.avg_size = 16 * 1024;
  o.chunker.max_size = 64 * 1024;
  o.pack_size = 64 * 1024;
  return o;
}

RepoFixture::RepoFixture(const repo::InitOptions& options) {
  ::setenv("BKP_TEST_FAST_KDF", "1", 1);
  storage::LocalBackend backend(storage());
  auto id = repo::Repository::init(backend, test_credentials(), options);
  REQUIRE_OK(id);
  reopen();
}

RepoFixture::~RepoFixture() = default;

void RepoFixture::reopen(bool fresh_catalog) {
  repo_.reset();
  if (fresh_catalog) {
    for (auto suffix : {"", "-wal", "-shm"}) fs::remove(catalog_path().string() + suffix);
  }
  auto opened = repo::Repository::open(std::make_unique<storage::LocalBackend>(storage()),
                                       test_credentials(), catalog_path());
  REQUIRE_OK(opened);
  repo_ = std::move(opened).value();
}

std::vector<std::string> RepoFixture::objects(const std::string& prefix) {
  std::vector<std::string> out;
  storage::LocalBackend backend(storage());
  auto st = backend.list(prefix, [&](const storage::ObjectInfo& o) -> util::Status {
    out.push_back(o.name);
    return {};
  });
  REQUIRE_OK(st);
  std::sort(out.begin(), out.end());
  return out;
}

engine::BackupReport RepoFixture::backup(const std::vector<fs::path>& paths,
                                         engine::BackupType type, std::vector<std::string> tags,
                                         std::string source) {
  engine::FileBackupOptions o;
  o.paths = paths;
  o.type = type;
  o.tags = std::move(tags);
  o.source_name = std::move(source);
  auto r = engine::backup_files(repo(), o);
  REQUIRE_OK(r);
  return std::move(r).value();
}

engine::RestoreReport RepoFixture::restore(const repo::Snapshot& snap, const fs::path& target,
                                           engine::OverwritePolicy overwrite) {
  engine::RestoreOptions o;
  o.target = target;
  o.overwrite = overwrite;
  auto r = engine::restore_to_directory(repo(), snap, o);
  REQUIRE_OK(r);
  return std::move(r).value();
}

util::Bytes random_bytes(std::size_t size, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  util::Bytes out(size);
  for (std::size_t i = 0; i < size; i += 8) {
    std::uint64_t v = rng();
    for (std::size_t k = 0; k < 8 && i + k < size; ++k)
      out[i + k] = static_cast<std::uint8_t>(v >> (8 * k));
  }
  return out;
}

void write_file(const fs::path& path, util::ByteView data, mode_t mode) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
  out.close();
  REQUIRE(out.good());
  REQUIRE(::chmod(path.c_str(), mode) == 0);
}

void write_file(const fs::path& path, const std::string& text, mode_t mode) {
  write_file(path, util::as_bytes(text), mode);
}

util::Bytes read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  return util::Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::string read_text(const fs::path& path) {
  auto b = read_bytes(path);
  return std::string(b.begin(), b.end());
}

void set_mtime(const fs::path& path, std::int64_t mtime_ns) {
  struct timespec t[2];
  t[0].tv_sec = 0;
  t[0].tv_nsec = UTIME_OMIT;
  t[1].tv_sec = static_cast<time_t>(mtime_ns / 1'000'000'000);
  t[1].tv_nsec = static_cast<long>(mtime_ns % 1'000'000'000);
  REQUIRE(::utimensat(AT_FDCWD, path.c_str(), t, AT_SYMLINK_NOFOLLOW) == 0);
}

std::int64_t mtime_of(const fs::path& path) {
  struct stat st {};
  REQUIRE(::lstat(path.c_str(), &st) == 0);
  return st.st_mtim.tv_sec * 1'000'000'000LL + st.st_mtim.tv_nsec;
}

namespace {

std::map<std::string, std::string> xattrs_of(const fs::path& p) {
  std::map<std::string, std::string> out;
  ssize_t n = ::llistxattr(p.c_str(), nullptr, 0);
  if (n <= 0) return out;
  std::string names(static_cast<std::size_t>(n), '\0');
  n = ::llistxattr(p.c_str(), names.data(), names.size());
  for (std::size_t i = 0; i < static_cast<std::size_t>(n);) {
    std::string name(names.c_str() + i);
    i += name.size() + 1;
    ssize_t len = ::lgetxattr(p.c_str(), name.c_str(), nullptr, 0);
    std::string value(static_cast<std::size_t>(std::max<ssize_t>(len, 0)), '\0');
    if (len > 0) ::lgetxattr(p.c_str(), name.c_str(), value.data(), value.size());
    out[name] = value;
  }
  return out;
}

std::set<std::string> entries_of(const fs::path& dir) {
  std::set<std::string> out;
  for (auto& e : fs::directory_iterator(dir)) out.insert(e.path().filename().string());
  return out;
}

std::string link_target(const fs::path& p) {
  std::string buf(8192, '\0');
  ssize_t n = ::readlink(p.c_str(), buf.data(), buf.size());
  return n < 0 ? std::string() : buf.substr(0, static_cast<std::size_t>(n));
}

struct Comparer {
  Extra extra;
  std::vector<std::string> diffs;
  // inode in a -> inode in b, for hard-link groups
  std::map<ino_t, ino_t> links;

  void diff(const std::string& rel, const std::string& what) {
    diffs.push_back("'" + rel + "': " + what);
  }

  void compare(const fs::path& a, const fs::path& b, const std::string& rel) {
    struct stat sa {
    }, sb{};
    if (::lstat(a.c_str(), &sa) != 0) return diff(rel, "missing in a");
    if (::lstat(b.c_str(), &sb) != 0) return diff(rel, "missing in b");
    if ((sa.st_mode & S_IFMT) != (sb.st_mode & S_IFMT)) return diff(rel, "type differs");
    if ((sa.st_mode & 07777) != (sb.st_mode & 07777) && !S_ISLNK(sa.st_mode)) {
      diff(rel, "mode " + std::to_string(sa.st_mode & 07777) + " vs " +
                    std::to_string(sb.st_mode & 07777));
    }
    if (sa.st_uid != sb.st_uid || sa.st_gid != sb.st_gid) diff(rel, "owner differs");
    if (sa.st_mtim.tv_sec != sb.st_mtim.tv_sec || sa.st_mtim.tv_nsec != sb.st_mtim.tv_nsec) {
      diff(rel, "mtime differs");
    }
    if (xattrs_of(a) != xattrs_of(b)) diff(rel, "xattrs differ");
    if (S_ISREG(sa.st_mode)) {
      if (sa.st_size != sb.st_size)
        diff(rel, "size differs");
      else if (read_bytes(a) != read_bytes(b))
        diff(rel, "content differs");
      if (sa.st_nlink != sb.st_nlink) diff(rel, "link count differs");
      if (sa.st_nlink > 1) {
        auto [it, inserted] = links.emplace(sa.st_ino, sb.st_ino);
        if (!inserted && it->second != sb.st_ino) diff(rel, "hard link not shared");
      }
    } else if (S_ISLNK(sa.st_mode)) {
      if (link_target(a) != link_target(b)) diff(rel, "link target differs");
    } else if (S_ISCHR(sa.st_mode) || S_ISBLK(sa.st_mode)) {
      if (sa.st_rdev != sb.st_rdev) diff(rel, "device differs");
    } else if (S_ISDIR(sa.st_mode)) {
      auto ea = entries_of(a), eb = entries_of(b);
      for (auto& name : ea) {
        if (!eb.count(name))
          diff(rel + "/" + name, "missing in b");
        else
          compare(a / name, b / name, rel + "/" + name);
      }
      if (extra == Extra::forbidden) {
        for (auto& name : eb) {
          if (!ea.count(name)) diff(rel + "/" + name, "extra in b");
        }
      }
    }
  }
};

}  // namespace

std::vector<std::string> compare_trees(const fs::path& a, const fs::path& b, Extra extra) {
  Comparer c{extra, {}, {}};
  c.compare(a, b, ".");
  return c.diffs;
}

std::vector<std::string> packs_of(repo::Repository& repo, const std::vector<repo::BlobId>& blobs) {
  std::set<std::string> out;
  for (auto& id : blobs) {
    auto loc = repo.catalog().find_blob(id);
    REQUIRE_OK(loc);
    REQUIRE(loc->has_value());
    out.insert(repo::pack_object_name((*loc)->pack));
  }
  return {out.begin(), out.end()};
}

std::vector<repo::BlobId> chunks_of(repo::Repository& repo, const repo::Snapshot& snap,
                                    const std::string& path) {
  auto node = engine::find_node(repo, snap.tree, path);
  REQUIRE_OK(node);
  return node->content;
}

void flip_byte(const fs::path& file, std::streamoff at) {
  std::fstream io(file, std::ios::in | std::ios::out | std::ios::binary);
  REQUIRE(io.good());
  io.seekg(at);
  char c = 0;
  io.get(c);
  io.seekp(at);
  io.put(static_cast<char>(c ^ 0x40));
  REQUIRE(io.good());
}

}  // namespace bkp::test
