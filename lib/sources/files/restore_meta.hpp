// Putting file-system entries back under a restore target. The restorer
// creates each entry with a safe private mode, writes file content, and
// applies the recorded metadata last:
//
//   create_dir / create_symlink / create_special / create_hardlink, or
//   FileWriter::open + write... + finish for regular files, then
//   apply_metadata(path, node, ...)
//
// Directories: call apply_metadata on a directory only after all of its
// children are restored. Creating a child updates the directory's mtime,
// and a restrictive mode (0500) or a default ACL would otherwise block or
// leak into the children.
//
// Paths are byte strings: any name without '/' and NUL works, newlines and
// invalid UTF-8 included. Nothing here follows a symlink at the last
// component (O_NOFOLLOW, lchown, lsetxattr, AT_SYMLINK_NOFOLLOW).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "sources/files/node.hpp"
#include "util/bytes.hpp"
#include "util/result.hpp"

namespace bkp::sources {

// mkdir with mode 0700; metadata comes later. An existing directory at
// `path` is accepted (restoring into an existing target), anything else
// there is an ErrorKind::exists error.
util::Status create_dir(const std::filesystem::path& path, const Node& node);
// symlink(2) to node.link_target, whatever bytes it holds.
util::Status create_symlink(const std::filesystem::path& path, const Node& node);
// mknod for character and block devices (node.rdev), mkfifo for FIFOs, both
// mode 0600. Sockets cannot be recreated meaningfully: they are not created
// and the result is an ErrorKind::partial error the restorer reports as a
// warning. Other types are an ErrorKind::generic error.
util::Status create_special(const std::filesystem::path& path, const Node& node);
// A hard link at `path` to the already restored `existing`.
util::Status create_hardlink(const std::filesystem::path& path,
                             const std::filesystem::path& existing);

enum class Sync { no, yes };

// Writes a regular file's content in order. Blocks of 4 KiB (aligned to
// the file offset) that are all zero are not written but skipped, leaving
// holes, so sparse files stay sparse (and zero-filled files become sparse,
// as with restic --sparse and cp --sparse=always).
class FileWriter {
 public:
  static constexpr std::size_t block_size = 4096;

  FileWriter() = default;
  FileWriter(FileWriter&& o) noexcept;
  FileWriter& operator=(FileWriter&& o) noexcept;
  FileWriter(const FileWriter&) = delete;
  FileWriter& operator=(const FileWriter&) = delete;
  ~FileWriter();  // closes without syncing; an unfinished file stays as is

  // Creates or truncates `path` (O_WRONLY|O_CREAT|O_TRUNC|O_NOFOLLOW, 0600).
  util::Status open(const std::filesystem::path& path);
  // The same for `name` relative to the directory `dir_fd` (a restore
  // keeps its directories open: no path walk per file); `path` is for
  // messages.
  // Create::exclusive fails when something is already at `name`.
  enum class Create { truncate, exclusive };
  util::Status open_at(int dir_fd, const char* name, const std::filesystem::path& path,
                       Create create = Create::truncate);
  util::Status write(util::ByteView data);
  // Sets the final size (ftruncate, so trailing holes exist), optionally
  // fsyncs, and closes. `size` must equal the bytes written: anything else
  // is an ErrorKind::corrupt error (the stored content was not node.size).
  util::Status finish(std::uint64_t size, Sync sync = Sync::no);
  // finish in two steps, so that metadata can go on through fd() between
  // them: end checks and sets the size (closing the file when that fails),
  // close syncs if asked and closes.
  util::Status end(std::uint64_t size);
  util::Status close(Sync sync = Sync::no);
  int fd() const { return fd_; }

  std::uint64_t offset() const { return offset_; }

 private:
  util::Status write_at(const std::uint8_t* data, std::size_t len, std::uint64_t at);
  void close_fd();

  int fd_ = -1;
  std::filesystem::path path_;
  std::uint64_t offset_ = 0;
  std::uint64_t written_end_ = 0;  // end of the last byte written (not a hole)
};

enum class Ownership { restore, skip };

// Applies node's metadata to `path`, in the order that keeps each step
// from undoing the previous one:
//   1. lchown to node.uid/node.gid (Ownership::restore; numeric ids). EPERM
//      (not root) is a warning, not an error.
//   2. chmod to node.mode, setuid/setgid/sticky included (after chown,
//      which clears setuid/setgid); not for symlinks.
//   3. lsetxattr of each of node.xattrs (system.posix_acl_access and
//      _default restore POSIX ACLs; security.capability after chown, which
//      drops it). ENOTSUP, EPERM and EACCES are warnings.
//   4. utimensat(AT_SYMLINK_NOFOLLOW) of atime and mtime, in nanoseconds;
//      last, since every step before changes ctime and maybe mtime. ctime
//      cannot be set.
// Warnings are appended as messages ("restoring owner of 'p': ...").
util::Status apply_metadata(const std::filesystem::path& path, const Node& node,
                            Ownership ownership, std::vector<std::string>& warnings);
// The same on an open regular file (fchown, fchmod, fsetxattr, futimens):
// no path lookups, and it can be done before the file gets its final name.
// `path` is for messages.
util::Status apply_metadata(int fd, const std::filesystem::path& path, const Node& node,
                            Ownership ownership, std::vector<std::string>& warnings);

}  // namespace bkp::sources
