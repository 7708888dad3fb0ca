#include "util/fs.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
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

Status write_file_atomic(const fs::path& path, ByteView data, mode_t mode, Overwrite overwrite,
                         Durable durable) {
  fs::path tmp = path;
  tmp += temp_suffix();
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return fail(errno_error("creating", tmp, errno));
  auto cleanup = [&] {
    ::close(fd);
    ::unlink(tmp.c_str());
  };
  if (auto st = write_all(fd, data, tmp); !st) {
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
