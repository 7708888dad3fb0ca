// Reading a regular file's content for a backup, streaming, with checks
// that it is still the file the walker saw and that it did not change while
// being read.
#pragma once

#include <sys/stat.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>

#include "sources/files/node.hpp"
#include "util/result.hpp"

namespace bkp::sources {

class FileReader {
 public:
  FileReader(FileReader&& o) noexcept;
  FileReader& operator=(FileReader&& o) noexcept;
  FileReader(const FileReader&) = delete;
  FileReader& operator=(const FileReader&) = delete;
  ~FileReader();

  // Reads up to `cap` bytes; 0 means end of file. Retries EINTR.
  util::Result<std::size_t> read(std::uint8_t* buf, std::size_t cap);

  // True when the file is not what the walker saw any more: its size,
  // mtime or ctime differ from `expected` now (fstat again), or the bytes
  // read so far differ in number from expected.size after EOF was reached.
  // Call it after read() returned 0; the engine then reports "file changed
  // while being read" (the snapshot keeps what was read). An fstat failure
  // counts as changed.
  bool changed_while_reading() const;

  std::uint64_t bytes_read() const { return bytes_read_; }
  const std::filesystem::path& path() const { return path_; }

 private:
  friend util::Result<FileReader> open_for_backup(const std::filesystem::path& path,
                                                  const Node& expected);
  FileReader(int fd, std::filesystem::path path, const Node& expected);

  int fd_ = -1;
  std::filesystem::path path_;
  std::uint64_t expected_size_ = 0;
  std::int64_t expected_mtime_ns_ = 0, expected_ctime_ns_ = 0;
  std::uint64_t bytes_read_ = 0;
  bool eof_ = false;
};

// Opens `path` without following symlinks, without updating its atime when
// allowed (owner or CAP_FOWNER), and without blocking should it have become
// a FIFO. Fails (ErrorKind::io) when it is no longer the regular file
// `expected` describes (another inode or device, another type);
// ErrorKind::not_found when it vanished.
util::Result<FileReader> open_for_backup(const std::filesystem::path& path, const Node& expected);

}  // namespace bkp::sources
