#include "sources/files/metadata.hpp"

#include <grp.h>
#include <pwd.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <type_traits>

#include "util/fs.hpp"

namespace bkp::sources::detail {

namespace fs = std::filesystem;
using util::Result;

namespace {

// Calls a getpwuid_r-style function with a growing buffer until it fits.
template <class Entry, class Fn>
std::string lookup_name(Fn&& fn) {
  std::vector<char> buf(1024);
  for (;;) {
    Entry entry{};
    Entry* found = nullptr;
    int rc = fn(&entry, buf.data(), buf.size(), &found);
    if (rc == ERANGE && buf.size() < (1u << 20)) {
      buf.resize(buf.size() * 2);
      continue;
    }
    if (rc != 0 || found == nullptr) return {};
    if constexpr (std::is_same_v<Entry, struct passwd>) {
      return found->pw_name != nullptr ? found->pw_name : "";
    } else {
      return found->gr_name != nullptr ? found->gr_name : "";
    }
  }
}

std::int64_t to_ns(const struct timespec& ts) {
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

}  // namespace

const std::string& NameCache::user(uid_t uid) {
  auto it = users_.find(uid);
  if (it != users_.end()) return it->second;
  auto name =
      lookup_name<struct passwd>([uid](struct passwd* e, char* b, size_t n, struct passwd** out) {
        return ::getpwuid_r(uid, e, b, n, out);
      });
  return users_.emplace(uid, std::move(name)).first->second;
}

const std::string& NameCache::group(gid_t gid) {
  auto it = groups_.find(gid);
  if (it != groups_.end()) return it->second;
  auto name =
      lookup_name<struct group>([gid](struct group* e, char* b, size_t n, struct group** out) {
        return ::getgrgid_r(gid, e, b, n, out);
      });
  return groups_.emplace(gid, std::move(name)).first->second;
}

NodeType type_from_mode(mode_t mode) {
  switch (mode & S_IFMT) {
    case S_IFDIR:
      return NodeType::dir;
    case S_IFLNK:
      return NodeType::symlink;
    case S_IFCHR:
      return NodeType::chardev;
    case S_IFBLK:
      return NodeType::blockdev;
    case S_IFIFO:
      return NodeType::fifo;
    case S_IFSOCK:
      return NodeType::socket;
    default:
      return NodeType::file;
  }
}

Result<std::string> read_link(const fs::path& path) {
  // st_size is a hint only (0 under /proc, and the link may change), so
  // grow until readlink returns less than the buffer.
  std::string buf(256, '\0');
  for (;;) {
    ssize_t n = ::readlink(path.c_str(), buf.data(), buf.size());
    if (n < 0) return util::fail(util::errno_error("reading symlink", path, errno));
    if (static_cast<size_t>(n) < buf.size()) {
      buf.resize(static_cast<size_t>(n));
      return buf;
    }
    buf.resize(buf.size() * 2);
  }
}

namespace {

// One attribute's value; nullopt when it vanished or is unsupported.
Result<std::optional<util::Bytes>> read_xattr(const fs::path& path, const char* name) {
  util::Bytes value;
  for (;;) {
    ssize_t n = ::lgetxattr(path.c_str(), name, nullptr, 0);
    if (n >= 0) {
      value.resize(static_cast<size_t>(n));
      n = ::lgetxattr(path.c_str(), name, value.data(), value.size());
    }
    if (n >= 0) {
      value.resize(static_cast<size_t>(n));
      return std::optional<util::Bytes>(std::move(value));
    }
    if (errno == ERANGE) continue;  // grew between the two calls
    if (errno == ENODATA || errno == ENOTSUP) return std::optional<util::Bytes>();
    return util::fail(util::errno_error(std::string("reading extended attribute '") + name + "' of",
                                        path, errno));
  }
}

}  // namespace

Result<std::vector<Xattr>> read_xattrs(const fs::path& path) {
  std::vector<char> names;
  for (;;) {
    ssize_t n = ::llistxattr(path.c_str(), nullptr, 0);
    if (n > 0) {
      names.resize(static_cast<size_t>(n));
      n = ::llistxattr(path.c_str(), names.data(), names.size());
    }
    if (n >= 0) {
      names.resize(static_cast<size_t>(n));
      break;
    }
    if (errno == ERANGE) continue;
    if (errno == ENOTSUP) return std::vector<Xattr>{};
    return util::fail(util::errno_error("listing extended attributes of", path, errno));
  }
  std::vector<Xattr> out;
  // The list is a sequence of NUL-terminated names.
  for (size_t pos = 0; pos < names.size();) {
    const char* name = names.data() + pos;
    size_t len = ::strnlen(name, names.size() - pos);
    pos += len + 1;
    if (len == 0) continue;
    BKP_ASSIGN(auto value, read_xattr(path, name));
    if (value) out.push_back(Xattr{std::string(name, len), std::move(*value)});
  }
  std::sort(out.begin(), out.end(), [](const Xattr& a, const Xattr& b) { return a.name < b.name; });
  return out;
}

Result<Node> node_from_stat(const fs::path& path, const struct stat& st, NameCache& names) {
  Node n;
  n.name = path.filename().string();
  n.type = type_from_mode(st.st_mode);
  n.mode = static_cast<std::uint32_t>(st.st_mode & 07777);
  n.uid = st.st_uid;
  n.gid = st.st_gid;
  n.user = names.user(st.st_uid);
  n.group = names.group(st.st_gid);
  n.mtime_ns = to_ns(st.st_mtim);
  n.atime_ns = to_ns(st.st_atim);
  n.ctime_ns = to_ns(st.st_ctim);
  n.size = static_cast<std::uint64_t>(st.st_size);
  n.inode = st.st_ino;
  n.device = st.st_dev;
  n.nlink = st.st_nlink;
  if (n.type == NodeType::chardev || n.type == NodeType::blockdev) n.rdev = st.st_rdev;
  if (n.type == NodeType::symlink) {
    BKP_ASSIGN(n.link_target, read_link(path));
  }
  BKP_ASSIGN(n.xattrs, read_xattrs(path));
  n.sparse = n.type == NodeType::file && static_cast<std::uint64_t>(st.st_blocks) * 512 <
                                             static_cast<std::uint64_t>(st.st_size);
  return n;
}

}  // namespace bkp::sources::detail
