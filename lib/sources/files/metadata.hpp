// Internal to the files source: turning an lstat result into a Node (owner
// names, symlink target, extended attributes). Shared by the walker and
// stat_path so both report exactly the same fields.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "sources/files/node.hpp"
#include "util/result.hpp"

namespace bkp::sources::detail {

// getpwuid_r/getgrgid_r are slow (NSS, maybe LDAP) and a tree has few
// distinct owners, so each id is looked up once per walk.
class NameCache {
 public:
  const std::string& user(uid_t uid);
  const std::string& group(gid_t gid);

 private:
  std::map<uid_t, std::string> users_;
  std::map<gid_t, std::string> groups_;
};

NodeType type_from_mode(mode_t mode);

// readlink(2) of any length.
util::Result<std::string> read_link(const std::filesystem::path& path);

// All extended attributes the kernel lists (every namespace), sorted by
// name. A file system without xattr support yields none.
util::Result<std::vector<Xattr>> read_xattrs(const std::filesystem::path& path);

// Fills every Node field from `st`, reading the link target and xattrs.
util::Result<Node> node_from_stat(const std::filesystem::path& path, const struct stat& st,
                                  NameCache& names);

}  // namespace bkp::sources::detail
