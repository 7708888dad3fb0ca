#include "sources/postgres/tar_member.hpp"

#include <archive_entry.h>

namespace bkp::sources::postgres {

using util::ErrorKind;
using util::fail;

util::Result<std::string> tar_member_path(std::string_view name) {
  const std::string original(name);
  while (name.starts_with("./")) name.remove_prefix(2);
  while (name.size() > 1 && name.back() == '/') name.remove_suffix(1);
  auto bad = [&] {
    return fail(ErrorKind::corrupt, "base backup member '" + original + "' has a bad path");
  };
  if (name.empty() || name.front() == '/') return bad();
  for (std::size_t start = 0; start <= name.size();) {
    auto end = name.find('/', start);
    if (end == std::string_view::npos) end = name.size();
    auto part = name.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return bad();
    start = end + 1;
  }
  return std::string(name);
}

util::Result<Node> tar_member_node(archive_entry* entry, const std::string& name) {
  Node n;
  n.name = name;
  const char* path = archive_entry_pathname(entry);
  const std::string where = "base backup member '" + std::string(path ? path : name) + "'";
  if (archive_entry_hardlink(entry))
    return fail(ErrorKind::corrupt, where + " is a hard link, which a data directory never has");
  switch (archive_entry_filetype(entry)) {
    case AE_IFREG:
      n.type = NodeType::file;
      n.size = std::uint64_t(archive_entry_size(entry));
      break;
    case AE_IFDIR:
      n.type = NodeType::dir;
      break;
    case AE_IFLNK: {
      n.type = NodeType::symlink;
      const char* target = archive_entry_symlink(entry);
      if (!target || !*target) return fail(ErrorKind::corrupt, where + " is a symlink to nowhere");
      n.link_target = target;
      n.size = n.link_target.size();
      break;
    }
    default:
      return fail(ErrorKind::corrupt, where + " is neither a file, a directory nor a symlink");
  }
  n.mode = std::uint32_t(archive_entry_perm(entry)) & 07777;
  n.uid = std::uint32_t(archive_entry_uid(entry));
  n.gid = std::uint32_t(archive_entry_gid(entry));
  if (const char* u = archive_entry_uname(entry)) n.user = u;
  if (const char* g = archive_entry_gname(entry)) n.group = g;
  n.mtime_ns = std::int64_t(archive_entry_mtime(entry)) * 1'000'000'000 +
               std::int64_t(archive_entry_mtime_nsec(entry));
  n.ctime_ns = n.mtime_ns;
  n.atime_ns = n.mtime_ns;
  return n;
}

}  // namespace bkp::sources::postgres
