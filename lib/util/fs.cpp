#include "util/fs.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>

namespace bkp::util {

namespace fs = std::filesystem;

Error errno_error(const std::string& action, const fs::path& path, int err) {
  ErrorKind kind = ErrorKind::io;
  if (err == ENOENT) kind = ErrorKind::not_found;
  if (err == EEXIST) kind = ErrorKind::exists;
  return make_error(kind, action + " '" + path.string() + "': " + std::strerror(err));
}

static std::string temp_suffix() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string s = ".tmp-";
  for (int i = 0; i < 12; ++i) s.push_back(alphabet[rng() % 36]);
  return s;
}

Status fsync_dir(const fs::path& dir) {
  int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return fail(errno_error("opening directory", dir, errno));
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return fail(errno_error("syncing directory", dir, err));
  return {};
}

static Status write_all(int fd, ByteView data, const fs::path& path) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(errno_error("writing", path, errno));
    }
    off += static_cast<size_t>(n);
  }
  return {};
}

// O_DIRECT wants the buffer, the file offset and the length aligned to the
// device's logical block size; 4096 covers 512-byte and 4K-sector disks.
// The bytes go through an aligned bounce buffer (a copy costs far less than
// the page cache's), the last block is padded with zeros and the file cut
// back to its size. A file system that refuses an aligned O_DIRECT write
// gets the rest through the page cache.
static Status write_all_direct(int fd, ByteView data, const fs::path& path) {
  constexpr size_t kAlign = 4096;
  constexpr size_t kBounce = size_t{1} << 20;
  struct Free {
    void operator()(std::uint8_t* p) const { std::free(p); }
  };
  thread_local std::unique_ptr<std::uint8_t, Free> bounce;
  if (!bounce) {
    void* p = nullptr;
    if (::posix_memalign(&p, kAlign, kBounce) != 0) return write_all(fd, data, path);
    bounce.reset(static_cast<std::uint8_t*>(p));
  }
  size_t off = 0;
  while (off < data.size()) {
    const size_t n = std::min(kBounce, data.size() - off);
    const size_t padded = (n + kAlign - 1) / kAlign * kAlign;
    std::memcpy(bounce.get(), data.data() + off, n);
    std::memset(bounce.get() + n, 0, padded - n);
    ssize_t w = ::pwrite(fd, bounce.get(), padded, static_cast<off_t>(off));
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno == EINVAL) {
      if (::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_DIRECT) != 0 ||
          ::lseek(fd, static_cast<off_t>(off), SEEK_SET) < 0)
        return fail(errno_error("writing", path, errno));
      return write_all(fd, data.subspan(off), path);
    }
    if (w < 0) return fail(errno_error("writing", path, errno));
    // A short write (a disk filling up) ends on a block boundary: go on
    // from there, or hear the error on the next write.
    off += std::min(static_cast<size_t>(w), n);
  }
  if (data.size() % kAlign != 0 && ::ftruncate(fd, static_cast<off_t>(data.size())) != 0)
    return fail(errno_error("writing", path, errno));
  return {};
}

Status write_file_atomic(const fs::path& path, ByteView data, mode_t mode, Overwrite overwrite,
                         Durable durable, PageCache cache) {
  fs::path tmp = path;
  tmp += temp_suffix();
  const int flags = O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC;
  int fd = -1;
  bool direct = cache == PageCache::bypass;
  if (direct) {
    fd = ::open(tmp.c_str(), flags | O_DIRECT, mode);
    // EINVAL: a file system without O_DIRECT (tmpfs before Linux 6.6),
    // which may have created the file before refusing the flag.
    if (fd < 0 && errno == EINVAL) {
      ::unlink(tmp.c_str());
      direct = false;
    }
  }
  if (!direct) fd = ::open(tmp.c_str(), flags, mode);
  if (fd < 0) return fail(errno_error("creating", tmp, errno));
  auto cleanup = [&] {
    ::close(fd);
    ::unlink(tmp.c_str());
  };
  if (auto st = direct ? write_all_direct(fd, data, tmp) : write_all(fd, data, tmp); !st) {
    cleanup();
    return st;
  }
  if (::fchmod(fd, mode) != 0 || (durable == Durable::yes && ::fsync(fd) != 0)) {
    int err = errno;
    cleanup();
    return fail(errno_error("syncing", tmp, err));
  }
  ::close(fd);
  int rc;
  if (overwrite == Overwrite::forbid) {
    // link() fails with EEXIST instead of replacing: create-only semantics.
    rc = ::link(tmp.c_str(), path.c_str());
    int err = errno;
    ::unlink(tmp.c_str());
    if (rc != 0) return fail(errno_error("creating", path, err));
  } else {
    rc = ::rename(tmp.c_str(), path.c_str());
    if (rc != 0) {
      int err = errno;
      ::unlink(tmp.c_str());
      return fail(errno_error("renaming into", path, err));
    }
  }
  if (durable == Durable::no) return {};
  return fsync_dir(path.parent_path());
}

Result<Bytes> read_file(const fs::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail(errno_error("opening", path, errno));
  Bytes out;
  struct stat st {};
  if (::fstat(fd, &st) == 0 && st.st_size > 0) out.reserve(static_cast<size_t>(st.st_size));
  std::uint8_t buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return fail(errno_error("reading", path, err));
    }
    if (n == 0) break;
    out.insert(out.end(), buf, buf + n);
  }
  ::close(fd);
  return out;
}

Result<std::string> read_text_file(const fs::path& path) {
  BKP_ASSIGN(Bytes b, read_file(path));
  return std::string(as_chars(b));
}

Status make_dirs(const fs::path& dir, mode_t mode) {
  std::error_code ec;
  if (fs::is_directory(dir, ec)) return {};
  if (!dir.parent_path().empty() && dir.parent_path() != dir) {
    BKP_TRY(make_dirs(dir.parent_path(), mode));
  }
  if (::mkdir(dir.c_str(), mode) != 0 && errno != EEXIST) {
    return fail(errno_error("creating directory", dir, errno));
  }
  return {};
}

}  // namespace bkp::util
