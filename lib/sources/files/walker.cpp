#include "sources/files/walker.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "sources/files/exclude.hpp"
#include "sources/files/metadata.hpp"
#include "util/fs.hpp"

namespace bkp::sources {

namespace fs = std::filesystem;
using util::Result;
using util::Status;

namespace {

// Names of a directory's entries, sorted bytewise (std::string compares as
// unsigned char). The directory is opened with O_NOFOLLOW and checked to be
// the one lstat saw, so a directory swapped for a symlink is never followed.
Result<std::vector<std::string>> list_dir(const fs::path& path, const struct stat& seen) {
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return util::fail(util::errno_error("opening directory", path, errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || st.st_ino != seen.st_ino || st.st_dev != seen.st_dev) {
    ::close(fd);
    return util::fail(util::ErrorKind::io,
                      "opening directory '" + path.string() + "': it was replaced while walking");
  }
  DIR* dir = ::fdopendir(fd);
  if (dir == nullptr) {
    int err = errno;
    ::close(fd);
    return util::fail(util::errno_error("opening directory", path, err));
  }
  std::vector<std::string> names;
  for (;;) {
    errno = 0;
    struct dirent* e = ::readdir(dir);
    if (e == nullptr) break;
    std::string_view name = e->d_name;
    if (name == "." || name == "..") continue;
    names.emplace_back(name);
  }
  int err = errno;
  ::closedir(dir);
  if (err != 0) return util::fail(util::errno_error("reading directory", path, err));
  std::sort(names.begin(), names.end());
  return names;
}

class Walk {
 public:
  Walk(const Excludes& excludes, FileSystems file_systems, WalkVisitor& visitor)
      : excludes_(excludes), file_systems_(file_systems), visitor_(visitor) {}

  Status root(const fs::path& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
      return util::fail(util::errno_error("reading backup root", path, errno));
    }
    root_dev_ = st.st_dev;
    return visit(path, st);
  }

 private:
  Status visit(const fs::path& path, const struct stat& st) {
    auto node = detail::node_from_stat(path, st, names_);
    if (!node) {
      visitor_.skipped(path, node.error());
      return {};
    }
    if (!S_ISDIR(st.st_mode)) return visitor_.entry(path, *node);

    std::vector<std::string> children;
    // Like restic, a mount point of another file system is kept as an
    // empty directory so the restored tree has somewhere to mount it.
    if (file_systems_ == FileSystems::cross || st.st_dev == root_dev_) {
      auto listed = list_dir(path, st);
      if (!listed) {
        visitor_.skipped(path, listed.error());
        return {};
      }
      children = std::move(*listed);
    }
    BKP_TRY(visitor_.enter_dir(path, *node));
    for (const auto& name : children) BKP_TRY(child(path / name));
    return visitor_.leave_dir(path, *node);
  }

  Status child(const fs::path& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
      int err = errno;
      // An excluded entry is never reported, even when it cannot be read.
      if (!excludes_.matches(path, PathKind::unknown)) {
        visitor_.skipped(path, util::errno_error("reading", path, err));
      }
      return {};
    }
    if (excludes_.matches(path, S_ISDIR(st.st_mode) ? PathKind::dir : PathKind::non_dir)) {
      return {};
    }
    return visit(path, st);
  }

  const Excludes& excludes_;
  FileSystems file_systems_;
  WalkVisitor& visitor_;
  detail::NameCache names_;
  dev_t root_dev_ = 0;
};

Result<fs::path> normalise_root(const fs::path& root) {
  std::error_code ec;
  fs::path abs = fs::absolute(root, ec);
  if (ec) return util::fail(util::errno_error("resolving backup root", root, ec.value()));
  abs = abs.lexically_normal();
  // "/a/b/" normalises to "/a/b/": drop the empty last component.
  if (!abs.has_filename() && abs != abs.root_path()) abs = abs.parent_path();
  return abs;
}

}  // namespace

Status walk(const std::vector<fs::path>& roots, const WalkOptions& options, WalkVisitor& visitor) {
  BKP_ASSIGN(auto excludes, Excludes::compile(options.excludes));
  // Roots are checked before anything is visited, so a typo fails the
  // backup at once instead of after hours of walking the other roots.
  std::vector<fs::path> normalised;
  for (const auto& root : roots) {
    BKP_ASSIGN(auto abs, normalise_root(root));
    struct stat st {};
    if (::lstat(abs.c_str(), &st) != 0) {
      return util::fail(util::errno_error("reading backup root", abs, errno));
    }
    normalised.push_back(std::move(abs));
  }
  Walk w(excludes, options.file_systems, visitor);
  for (const auto& root : normalised) BKP_TRY(w.root(root));
  return {};
}

Result<Node> stat_path(const fs::path& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    return util::fail(util::errno_error("reading", path, errno));
  }
  detail::NameCache names;
  return detail::node_from_stat(path, st, names);
}

}  // namespace bkp::sources
