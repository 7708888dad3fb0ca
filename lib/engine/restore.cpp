// restore_to_stream: one file of a snapshot, written to a descriptor.
// (restore_to_directory is in restore_directory.cpp, the tar archive in
// restore_tar.cpp.)
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "engine/content.hpp"
#include "engine/restore.hpp"
#include "engine/tree_walk.hpp"

namespace bkp::engine {

using util::ErrorKind;
using util::fail;

util::Status restore_to_stream(repo::Repository& repo, const repo::Snapshot& snap,
                               const std::string& path, int fd) {
  BKP_ASSIGN(auto node, find_node(repo, snap.tree, path));
  if (node.meta.type != sources::NodeType::file) {
    return fail(ErrorKind::usage,
                "'" + path + "' is a " + sources::type_name(node.meta.type) + ", not a file");
  }
  return load_content(repo, node.content, [&](util::ByteView data) -> util::Status {
    std::size_t off = 0;
    while (off < data.size()) {
      ssize_t n = ::write(fd, data.data() + off, data.size() - off);
      if (n < 0) {
        if (errno == EINTR) continue;
        return fail(ErrorKind::io, std::string("writing the output: ") + std::strerror(errno));
      }
      off += static_cast<std::size_t>(n);
    }
    return {};
  });
}

}  // namespace bkp::engine
