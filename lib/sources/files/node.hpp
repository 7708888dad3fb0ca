// Metadata of one file-system entry, as a source hands it to the engine and
// gets it back on restore. Everything lstat(2) and the xattr calls report
// that a restore can put back; POSIX ACLs travel as the system.posix_acl_*
// extended attributes.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "util/bytes.hpp"

namespace bkp::sources {

// Values are stored in snapshot trees: part of the repository format.
enum class NodeType : std::uint8_t {
  file = 0,
  dir = 1,
  symlink = 2,
  chardev = 3,
  blockdev = 4,
  fifo = 5,
  socket = 6,
};

struct Xattr {
  std::string name;
  util::Bytes value;
};

struct Node {
  std::string name;  // the last path component ("" for "/")
  NodeType type = NodeType::file;
  std::uint32_t mode = 0;  // permission bits incl. setuid/setgid/sticky (st_mode & 07777)
  std::uint32_t uid = 0, gid = 0;
  std::string user, group;  // names at backup time, empty when unknown
  std::int64_t mtime_ns = 0, atime_ns = 0, ctime_ns = 0;
  std::uint64_t size = 0;
  std::uint64_t inode = 0, device = 0, nlink = 1;
  std::uint64_t rdev = 0;     // for devices
  std::string link_target;    // for symlinks
  std::vector<Xattr> xattrs;  // sorted by name
  bool sparse = false;        // the file had holes (st_blocks*512 < size)
};

const char* type_name(NodeType t);

}  // namespace bkp::sources
