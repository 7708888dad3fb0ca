#include "sources/files/restore_meta.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "util/fs.hpp"

namespace bkp::sources {

namespace fs = std::filesystem;
using util::Status;

Status create_dir(const fs::path& path, const Node&) {
  if (::mkdir(path.c_str(), 0700) == 0) return {};
  int err = errno;
  struct stat st {};
  if (err == EEXIST && ::lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return {};
  return util::fail(util::errno_error("creating directory", path, err));
}

Status create_symlink(const fs::path& path, const Node& node) {
  if (::symlink(node.link_target.c_str(), path.c_str()) != 0) {
    return util::fail(util::errno_error("creating symlink", path, errno));
  }
  return {};
}

Status create_special(const fs::path& path, const Node& node) {
  int rc = 0;
  switch (node.type) {
    case NodeType::chardev:
      rc = ::mknod(path.c_str(), S_IFCHR | 0600, static_cast<dev_t>(node.rdev));
      break;
    case NodeType::blockdev:
      rc = ::mknod(path.c_str(), S_IFBLK | 0600, static_cast<dev_t>(node.rdev));
      break;
    case NodeType::fifo:
      rc = ::mkfifo(path.c_str(), 0600);
      break;
    case NodeType::socket:
      return util::fail(util::ErrorKind::partial,
                        "restoring '" + path.string() + "': sockets cannot be restored, skipped");
    case NodeType::file:
    case NodeType::dir:
    case NodeType::symlink:
      return util::fail(util::ErrorKind::generic, "restoring '" + path.string() + "': a " +
                                                      type_name(node.type) +
                                                      " is not a special file");
  }
  if (rc != 0) return util::fail(util::errno_error("creating", path, errno));
  return {};
}

Status create_hardlink(const fs::path& path, const fs::path& existing) {
  if (::link(existing.c_str(), path.c_str()) != 0) {
    int err = errno;
    return util::fail(util::errno_error("creating hard link", path, err)
                          .context("linking to '" + existing.string() + "'"));
  }
  return {};
}

// ---- FileWriter ----

FileWriter::FileWriter(FileWriter&& o) noexcept
    : fd_(std::exchange(o.fd_, -1)),
      path_(std::move(o.path_)),
      offset_(o.offset_),
      written_end_(o.written_end_) {}

FileWriter& FileWriter::operator=(FileWriter&& o) noexcept {
  if (this != &o) {
    close_fd();
    fd_ = std::exchange(o.fd_, -1);
    path_ = std::move(o.path_);
    offset_ = o.offset_;
    written_end_ = o.written_end_;
  }
  return *this;
}

FileWriter::~FileWriter() { close_fd(); }

void FileWriter::close_fd() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

Status FileWriter::open(const fs::path& path) { return open_at(AT_FDCWD, path.c_str(), path); }

Status FileWriter::open_at(int dir_fd, const char* name, const fs::path& path, Create create) {
  close_fd();
  path_ = path;
  offset_ = 0;
  written_end_ = 0;
  int how = create == Create::exclusive ? O_EXCL : O_TRUNC;
  fd_ = ::openat(dir_fd, name, O_WRONLY | O_CREAT | how | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd_ < 0) return util::fail(util::errno_error("creating", path, errno));
  return {};
}

Status FileWriter::write_at(const std::uint8_t* data, std::size_t len, std::uint64_t at) {
  while (len > 0) {
    ssize_t n = ::pwrite(fd_, data, len, static_cast<off_t>(at));
    if (n < 0) {
      if (errno == EINTR) continue;
      return util::fail(util::errno_error("writing", path_, errno));
    }
    data += n;
    len -= static_cast<std::size_t>(n);
    at += static_cast<std::uint64_t>(n);
  }
  written_end_ = std::max(written_end_, at);
  return {};
}

namespace {

bool all_zero(const std::uint8_t* p, std::size_t n) {
  // p[0] == 0 and every byte equals its predecessor: memcmp runs at memory
  // speed, unlike a byte loop.
  return n == 0 || (p[0] == 0 && std::memcmp(p, p + 1, n - 1) == 0);
}

}  // namespace

Status FileWriter::write(util::ByteView data) {
  if (fd_ < 0) return util::fail(util::ErrorKind::generic, "writing: file is not open");
  // Consecutive non-zero blocks go out in one pwrite; zero blocks are
  // skipped, and pwrite past them leaves a hole.
  const std::uint8_t* p = data.data();
  std::size_t left = data.size();
  const std::uint8_t* run = nullptr;
  std::uint64_t run_at = 0;
  std::size_t run_len = 0;
  while (left > 0) {
    std::size_t in_block = block_size - static_cast<std::size_t>(offset_ % block_size);
    std::size_t n = std::min(in_block, left);
    if (all_zero(p, n)) {
      if (run_len > 0) BKP_TRY(write_at(run, run_len, run_at));
      run_len = 0;
    } else {
      if (run_len == 0) {
        run = p;
        run_at = offset_;
      }
      run_len += n;
    }
    p += n;
    left -= n;
    offset_ += n;
  }
  if (run_len > 0) BKP_TRY(write_at(run, run_len, run_at));
  return {};
}

Status FileWriter::finish(std::uint64_t size, Sync sync) {
  BKP_TRY(end(size));
  return close(sync);
}

Status FileWriter::end(std::uint64_t size) {
  if (fd_ < 0) return util::fail(util::ErrorKind::generic, "finishing: file is not open");
  if (size != offset_) {
    close_fd();
    return util::fail(util::ErrorKind::corrupt,
                      "restoring '" + path_.string() + "': got " + std::to_string(offset_) +
                          " bytes of content, expected " + std::to_string(size));
  }
  // Only a file ending in a hole needs its size set (it was created empty).
  if (written_end_ != size && ::ftruncate(fd_, static_cast<off_t>(size)) != 0) {
    int err = errno;
    close_fd();
    return util::fail(util::errno_error("writing", path_, err));
  }
  return {};
}

Status FileWriter::close(Sync sync) {
  if (fd_ < 0) return util::fail(util::ErrorKind::generic, "closing: file is not open");
  int rc = sync == Sync::yes ? ::fsync(fd_) : 0;
  int err = errno;
  int fd = std::exchange(fd_, -1);
  if (::close(fd) != 0 && rc == 0) {
    rc = -1;
    err = errno;
  }
  if (rc != 0) return util::fail(util::errno_error("writing", path_, err));
  return {};
}

// ---- metadata ----

namespace {

bool is_warning(int err) { return err == EPERM || err == ENOTSUP || err == EACCES; }

std::string describe(const std::string& what, const fs::path& path, int err) {
  return what + " '" + path.string() + "': " + std::strerror(err);
}

// Where metadata goes: an open regular file (f* calls: no path lookup), or
// a path (l* calls, never following a symlink at the last component).
struct MetadataTarget {
  int fd;  // -1: by path
  const fs::path& path;

  int chown(const Node& n) const {
    auto uid = static_cast<uid_t>(n.uid);
    auto gid = static_cast<gid_t>(n.gid);
    return fd >= 0 ? ::fchown(fd, uid, gid) : ::lchown(path.c_str(), uid, gid);
  }
  int chmod(mode_t mode) const {
    return fd >= 0 ? ::fchmod(fd, mode) : ::chmod(path.c_str(), mode);
  }
  int set_xattr(const Xattr& x) const {
    return fd >= 0 ? ::fsetxattr(fd, x.name.c_str(), x.value.data(), x.value.size(), 0)
                   : ::lsetxattr(path.c_str(), x.name.c_str(), x.value.data(), x.value.size(), 0);
  }
  int set_times(const struct timespec times[2]) const {
    return fd >= 0 ? ::futimens(fd, times)
                   : ::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW);
  }
};

Status apply(const MetadataTarget& target, const Node& node, Ownership ownership,
             std::vector<std::string>& warnings) {
  const fs::path& path = target.path;
  if (ownership == Ownership::restore && target.chown(node) != 0) {
    if (errno != EPERM) return util::fail(util::errno_error("restoring owner of", path, errno));
    warnings.push_back(describe("restoring owner of", path, errno));
  }
  if (node.type != NodeType::symlink && target.chmod(static_cast<mode_t>(node.mode & 07777)) != 0) {
    return util::fail(util::errno_error("restoring mode of", path, errno));
  }
  for (const auto& x : node.xattrs) {
    if (target.set_xattr(x) == 0) continue;
    std::string what = "restoring extended attribute '" + x.name + "' of";
    if (!is_warning(errno)) return util::fail(util::errno_error(what, path, errno));
    warnings.push_back(describe(what, path, errno));
  }
  struct timespec times[2];
  times[0].tv_sec = static_cast<time_t>(node.atime_ns / 1'000'000'000);
  times[0].tv_nsec = static_cast<long>(node.atime_ns % 1'000'000'000);
  times[1].tv_sec = static_cast<time_t>(node.mtime_ns / 1'000'000'000);
  times[1].tv_nsec = static_cast<long>(node.mtime_ns % 1'000'000'000);
  for (auto& t : times) {
    if (t.tv_nsec < 0) {  // before 1970: floor, not truncation toward zero
      t.tv_nsec += 1'000'000'000;
      t.tv_sec -= 1;
    }
  }
  if (target.set_times(times) != 0) {
    return util::fail(util::errno_error("restoring times of", path, errno));
  }
  return {};
}

}  // namespace

Status apply_metadata(const fs::path& path, const Node& node, Ownership ownership,
                      std::vector<std::string>& warnings) {
  return apply(MetadataTarget{-1, path}, node, ownership, warnings);
}

Status apply_metadata(int fd, const fs::path& path, const Node& node, Ownership ownership,
                      std::vector<std::string>& warnings) {
  return apply(MetadataTarget{fd, path}, node, ownership, warnings);
}

}  // namespace bkp::sources
