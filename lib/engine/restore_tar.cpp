// restore_to_tar: the selection as a pax tar stream through libarchive, with
// owners, times (ns), xattrs (and so ACLs), links and devices.
#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>

#include <map>
#include <memory>

#include "engine/content.hpp"
#include "engine/restore.hpp"
#include "engine/tree_walk.hpp"

namespace bkp::engine {

using sources::NodeType;
using util::ErrorKind;
using util::fail;

namespace {

mode_t type_bits(NodeType t) {
  switch (t) {
    case NodeType::file:
      return S_IFREG;
    case NodeType::dir:
      return S_IFDIR;
    case NodeType::symlink:
      return S_IFLNK;
    case NodeType::chardev:
      return S_IFCHR;
    case NodeType::blockdev:
      return S_IFBLK;
    case NodeType::fifo:
      return S_IFIFO;
    case NodeType::socket:
      return S_IFSOCK;
  }
  return S_IFREG;
}

struct ArchiveCloser {
  void operator()(archive* a) const { archive_write_free(a); }
};
struct EntryFree {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};

}  // namespace

util::Result<RestoreReport> restore_to_tar(repo::Repository& repo, const repo::Snapshot& snap,
                                           const RestoreFilter& filter, int fd) {
  std::unique_ptr<archive, ArchiveCloser> a(archive_write_new());
  // Full pax, not "restricted": restricted writes a plain ustar header for
  // entries without xattrs or long names, and that keeps whole seconds only.
  archive_write_set_format_pax(a.get());
  if (archive_write_open_fd(a.get(), fd) != ARCHIVE_OK) {
    return fail(ErrorKind::io, std::string("tar: ") + archive_error_string(a.get()));
  }
  auto tar_error = [&](const std::string& what) {
    const char* msg = archive_error_string(a.get());
    return util::fail(ErrorKind::io, "tar: " + what + ": " + (msg ? msg : "unknown error"));
  };
  RestoreReport report;
  std::map<std::pair<std::uint64_t, std::uint64_t>, std::string> links;

  auto add = [&](const std::string& path, const TreeNode& node) -> util::Status {
    const auto& m = node.meta;
    if (m.type == NodeType::socket) {
      // No tar format holds a socket, and libarchive refuses the entry;
      // a directory restore skips them the same way.
      report.warnings.push_back("'" + path + "': sockets cannot be archived, skipped");
      report.partial = true;
      return {};
    }
    std::unique_ptr<archive_entry, EntryFree> e(archive_entry_new());
    std::string name = path.substr(1);
    archive_entry_set_pathname(e.get(), name.c_str());
    archive_entry_set_mode(e.get(), type_bits(m.type) | m.mode);
    archive_entry_set_uid(e.get(), m.uid);
    archive_entry_set_gid(e.get(), m.gid);
    if (!m.user.empty()) archive_entry_set_uname(e.get(), m.user.c_str());
    if (!m.group.empty()) archive_entry_set_gname(e.get(), m.group.c_str());
    archive_entry_set_mtime(e.get(), m.mtime_ns / 1'000'000'000, m.mtime_ns % 1'000'000'000);
    archive_entry_set_atime(e.get(), m.atime_ns / 1'000'000'000, m.atime_ns % 1'000'000'000);
    for (auto& x : m.xattrs) {
      archive_entry_xattr_add_entry(e.get(), x.name.c_str(), x.value.data(), x.value.size());
    }
    bool write_data = false;
    if (m.type == NodeType::symlink) archive_entry_set_symlink(e.get(), m.link_target.c_str());
    if (m.type == NodeType::chardev || m.type == NodeType::blockdev)
      archive_entry_set_rdev(e.get(), m.rdev);
    if (m.type == NodeType::file) {
      auto key = std::make_pair(m.device, m.inode);
      auto it = m.nlink > 1 ? links.find(key) : links.end();
      if (it != links.end()) {
        archive_entry_set_hardlink(e.get(), it->second.c_str());
        archive_entry_set_size(e.get(), 0);
      } else {
        archive_entry_set_size(e.get(), static_cast<la_int64_t>(m.size));
        if (m.nlink > 1) links[key] = name;
        write_data = true;
      }
      ++report.files;
    } else if (m.type == NodeType::dir) {
      ++report.dirs;
    } else {
      ++report.others;
    }
    if (archive_write_header(a.get(), e.get()) < ARCHIVE_WARN) return tar_error(name);
    if (!write_data) return {};
    std::uint64_t written = 0;
    BKP_TRY(load_content(repo, node.content, [&](util::ByteView data) -> util::Status {
      if (archive_write_data(a.get(), data.data(), data.size()) < 0) return tar_error(name);
      written += data.size();
      return {};
    }));
    if (written != m.size) {
      return fail(ErrorKind::verification, "'" + path + "' has " + std::to_string(written) +
                                               " bytes, the snapshot says " +
                                               std::to_string(m.size));
    }
    report.bytes += written;
    return {};
  };

  BKP_TRY(
      walk_tree(repo, snap.tree,
                TreeVisitor{[&](const std::string& p, const TreeNode& n) -> util::Result<Descend> {
                              bool selected = filter.selects(p);
                              if (selected) BKP_TRY(add(p, n));
                              if (n.meta.type != NodeType::dir) return Descend::no;
                              return selected || filter.may_contain(p) ? Descend::yes : Descend::no;
                            },
                            {}}));
  if (archive_write_close(a.get()) != ARCHIVE_OK) return tar_error("closing");
  return report;
}

}  // namespace bkp::engine
