// Directory trees as stored in tree blobs: one blob per directory, listing
// its entries sorted by name, each with its metadata and either the ids of
// its content chunks (files) or the id of its subtree (directories).
// Encoded as CBOR with short keys; see doc/repository-format.md.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "repo/pack.hpp"
#include "sources/files/node.hpp"
#include "util/result.hpp"

namespace bkp::engine {

struct TreeNode {
  sources::Node meta;
  std::vector<repo::BlobId> content;    // files: chunk ids in order
  std::optional<repo::BlobId> subtree;  // directories
};

struct Tree {
  std::vector<TreeNode> nodes;  // sorted by meta.name
  const TreeNode* find(std::string_view name) const;
};

util::Bytes encode_tree(const Tree& tree);
util::Result<Tree> decode_tree(util::ByteView cbor);

}  // namespace bkp::engine
