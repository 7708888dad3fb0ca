#include "sources/files/node.hpp"

namespace bkp::sources {

const char* type_name(NodeType t) {
  switch (t) {
    case NodeType::file:
      return "file";
    case NodeType::dir:
      return "dir";
    case NodeType::symlink:
      return "symlink";
    case NodeType::chardev:
      return "chardev";
    case NodeType::blockdev:
      return "blockdev";
    case NodeType::fifo:
      return "fifo";
    case NodeType::socket:
      return "socket";
  }
  return "unknown";
}

}  // namespace bkp::sources
