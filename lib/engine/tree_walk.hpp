// Depth-first traversal of a snapshot's trees by absolute path ("/home/a"),
// shared by restore, ls, diff and verify. Subtrees are loaded one at a time,
// so memory follows the depth of the tree, not its size.
#pragma once

#include <functional>
#include <string>

#include "engine/tree.hpp"
#include "repo/repository.hpp"

namespace bkp::engine {

enum class Descend { yes, no };

struct TreeVisitor {
  // Called for every node; for directories, return Descend::no to skip it.
  std::function<util::Result<Descend>(const std::string& path, const TreeNode& node)> enter;
  // Called after a directory's children (only when it was descended into).
  std::function<util::Status(const std::string& path, const TreeNode& node)> leave;
};

// Paths are `prefix` + "/" + name + ...; the snapshot root has prefix "".
util::Status walk_tree(repo::Repository& repo, const repo::BlobId& root, const TreeVisitor& visitor,
                       const std::string& prefix = "");
util::Result<Tree> load_tree(repo::Repository& repo, const repo::BlobId& id);
// Finds the node at an absolute path in a snapshot; ErrorKind::not_found.
util::Result<TreeNode> find_node(repo::Repository& repo, const repo::BlobId& root,
                                 const std::string& path);

}  // namespace bkp::engine
