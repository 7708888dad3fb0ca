#include "sources/files/reader.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "util/fs.hpp"

namespace bkp::sources {

namespace fs = std::filesystem;
using util::Result;

namespace {

std::int64_t to_ns(const struct timespec& ts) {
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

}  // namespace

FileReader::FileReader(int fd, fs::path path, const Node& expected)
    : fd_(fd),
      path_(std::move(path)),
      expected_size_(expected.size),
      expected_mtime_ns_(expected.mtime_ns),
      expected_ctime_ns_(expected.ctime_ns) {}

FileReader::FileReader(FileReader&& o) noexcept
    : fd_(std::exchange(o.fd_, -1)),
      path_(std::move(o.path_)),
      expected_size_(o.expected_size_),
      expected_mtime_ns_(o.expected_mtime_ns_),
      expected_ctime_ns_(o.expected_ctime_ns_),
      bytes_read_(o.bytes_read_),
      eof_(o.eof_) {}

FileReader& FileReader::operator=(FileReader&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(o.fd_, -1);
    path_ = std::move(o.path_);
    expected_size_ = o.expected_size_;
    expected_mtime_ns_ = o.expected_mtime_ns_;
    expected_ctime_ns_ = o.expected_ctime_ns_;
    bytes_read_ = o.bytes_read_;
    eof_ = o.eof_;
  }
  return *this;
}

FileReader::~FileReader() {
  if (fd_ >= 0) ::close(fd_);
}

Result<std::size_t> FileReader::read(std::uint8_t* buf, std::size_t cap) {
  if (fd_ < 0) return util::fail(util::ErrorKind::generic, "reading: file is not open");
  for (;;) {
    ssize_t n = ::read(fd_, buf, cap);
    if (n < 0) {
      if (errno == EINTR) continue;
      return util::fail(util::errno_error("reading", path_, errno));
    }
    if (n == 0 && cap > 0) eof_ = true;
    bytes_read_ += static_cast<std::uint64_t>(n);
    return static_cast<std::size_t>(n);
  }
}

bool FileReader::changed_while_reading() const {
  if (eof_ && bytes_read_ != expected_size_) return true;
  struct stat st {};
  if (fd_ < 0 || ::fstat(fd_, &st) != 0) return true;
  return static_cast<std::uint64_t>(st.st_size) != expected_size_ ||
         to_ns(st.st_mtim) != expected_mtime_ns_ || to_ns(st.st_ctim) != expected_ctime_ns_;
}

Result<FileReader> open_for_backup(const fs::path& path, const Node& expected) {
  // Checked before opening too: opening a device node that replaced the
  // file could have side effects (a tape drive rewinds).
  struct stat before {};
  if (::lstat(path.c_str(), &before) != 0) {
    return util::fail(util::errno_error("opening", path, errno));
  }
  if (!S_ISREG(before.st_mode) || before.st_ino != expected.inode ||
      before.st_dev != expected.device) {
    return util::fail(util::ErrorKind::io,
                      "opening '" + path.string() + "': " +
                          (S_ISLNK(before.st_mode) ? "it was replaced by a symlink"
                                                   : "it was replaced by another file"));
  }
  // O_NONBLOCK: opening a FIFO that replaced the file must not hang; it is
  // cleared again once fstat shows a regular file.
  constexpr int base = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK;
  int flags = base | O_NOATIME;
  int fd = ::open(path.c_str(), flags);
  if (fd < 0 && errno == EPERM) fd = ::open(path.c_str(), flags = base);  // not the owner
  if (fd < 0) {
    if (errno == ELOOP) {
      return util::fail(util::ErrorKind::io,
                        "opening '" + path.string() + "': it was replaced by a symlink");
    }
    return util::fail(util::errno_error("opening", path, errno));
  }
  FileReader reader(fd, path, expected);
  struct stat st {};
  if (::fstat(fd, &st) != 0) return util::fail(util::errno_error("reading", path, errno));
  if (!S_ISREG(st.st_mode) || st.st_ino != expected.inode || st.st_dev != expected.device) {
    return util::fail(util::ErrorKind::io,
                      "opening '" + path.string() + "': it was replaced by another file");
  }
  // The flags are the ones it was opened with (F_SETFL ignores the access
  // mode and O_CLOEXEC): no F_GETFL, one system call less per file.
  if (::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) {
    return util::fail(util::errno_error("opening", path, errno));
  }
  // Advice only: a failure changes nothing. A file within the kernel's
  // first readahead window gains nothing from it (most files of a tree).
  if (st.st_size > (1 << 20)) (void)::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  return reader;
}

}  // namespace bkp::sources
