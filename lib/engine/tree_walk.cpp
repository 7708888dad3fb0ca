#include "engine/tree_walk.hpp"

#include <filesystem>

namespace bkp::engine {

using util::ErrorKind;
using util::fail;

util::Result<Tree> load_tree(repo::Repository& repo, const repo::BlobId& id) {
  BKP_ASSIGN(auto bytes, repo.load_blob(id));
  auto tree = decode_tree(bytes);
  if (!tree)
    return fail(ErrorKind::verification, "tree " + util::to_hex(id) + ": " + tree.error().message);
  return tree;
}

namespace {

util::Status walk_dir(repo::Repository& repo, const repo::BlobId& id, const std::string& prefix,
                      const TreeVisitor& v) {
  BKP_ASSIGN(auto tree, load_tree(repo, id));
  for (auto& node : tree.nodes) {
    std::string path = prefix + "/" + node.meta.name;
    BKP_ASSIGN(auto descend, v.enter(path, node));
    if (node.subtree && descend == Descend::yes) {
      BKP_TRY(walk_dir(repo, *node.subtree, path, v));
      if (v.leave) BKP_TRY(v.leave(path, node));
    }
  }
  return {};
}

}  // namespace

util::Status walk_tree(repo::Repository& repo, const repo::BlobId& root, const TreeVisitor& v,
                       const std::string& prefix) {
  return walk_dir(repo, root, prefix, v);
}

util::Result<TreeNode> find_node(repo::Repository& repo, const repo::BlobId& root,
                                 const std::string& path) {
  std::filesystem::path p(path);
  std::optional<TreeNode> found;
  for (auto& part : p.relative_path()) {
    if (part.empty()) continue;
    if (found && !found->subtree) {
      return fail(ErrorKind::not_found, "'" + path + "' is not in the snapshot");
    }
    BKP_ASSIGN(auto tree, load_tree(repo, found ? *found->subtree : root));
    const TreeNode* n = tree.find(part.string());
    if (!n) return fail(ErrorKind::not_found, "'" + path + "' is not in the snapshot");
    found = *n;
  }
  if (!found) return fail(ErrorKind::usage, "'" + path + "' names no file");
  return *found;
}

}  // namespace bkp::engine
