#include "engine/member_tree.hpp"

namespace bkp::engine {

namespace fs = std::filesystem;
using util::ErrorKind;
using util::fail;

namespace {

std::vector<std::string> parts(const fs::path& p) {
  std::vector<std::string> out;
  for (auto& c : p.relative_path())
    if (!c.empty() && c != ".") out.push_back(c.string());
  return out;
}

sources::Node made_up_dir(const std::string& name, const sources::Node& like, std::uint32_t mode) {
  sources::Node d;
  d.name = name;
  d.type = sources::NodeType::dir;
  d.mode = mode;
  d.uid = like.uid;
  d.gid = like.gid;
  d.user = like.user;
  d.group = like.group;
  d.mtime_ns = d.ctime_ns = d.atime_ns = like.mtime_ns;
  return d;
}

}  // namespace

MemberTree::MemberTree() {
  sources::Node root;
  root.type = sources::NodeType::dir;
  root.mode = 0755;
  root.user = root.group = "root";
  top_.meta = made_up_dir("", root, 0755);
}

util::Status MemberTree::add_root(const fs::path& root, const sources::Node& meta) {
  if (!root.is_absolute()) return fail(ErrorKind::usage, "'" + root.string() + "' is not absolute");
  sources::Node owner;
  owner.user = owner.group = "root";
  owner.mtime_ns = meta.mtime_ns;
  Entry* at = &top_;
  for (auto& name : parts(root)) {
    auto [it, made] = at->children.try_emplace(name);
    if (made) it->second.meta = made_up_dir(name, owner, 0755);
    at = &it->second;
  }
  if (!at->named) {
    at->meta = meta;
    at->meta.name = parts(root).empty() ? "" : parts(root).back();
  }
  return {};
}

util::Status MemberTree::add(const fs::path& path, sources::Node node, StoredContent content) {
  auto names = parts(path);
  if (!path.is_absolute() || names.empty())
    return fail(ErrorKind::usage, "'" + path.string() + "' is not an absolute path");
  Entry* at = &top_;
  for (std::size_t i = 0; i + 1 < names.size(); ++i) {
    auto [it, made] = at->children.try_emplace(names[i]);
    if (made) it->second.meta = made_up_dir(names[i], node, 0700);
    at = &it->second;
    if (at->meta.type != sources::NodeType::dir)
      return fail(ErrorKind::corrupt, "'" + path.string() + "' lies below a non-directory");
  }
  node.name = names.back();
  auto [it, made] = at->children.try_emplace(names.back());
  Entry& e = it->second;
  // A directory made up for an earlier entry below it gets its own
  // metadata now; anything else named twice is not a data directory.
  const bool both_dirs =
      e.meta.type == sources::NodeType::dir && node.type == sources::NodeType::dir;
  if (!made && (!both_dirs || e.named))
    return fail(ErrorKind::corrupt, "the base backup holds '" + path.string() + "' twice");
  e.meta = std::move(node);
  e.content = std::move(content);
  e.named = true;
  return {};
}

MemberTree::Entry* MemberTree::lookup(const fs::path& path) {
  Entry* at = &top_;
  for (auto& name : parts(path)) {
    auto it = at->children.find(name);
    if (it == at->children.end()) return nullptr;
    at = &it->second;
  }
  return at;
}

const MemberTree::Entry* MemberTree::lookup(const fs::path& path) const {
  return const_cast<MemberTree*>(this)->lookup(path);
}

bool MemberTree::contains(const fs::path& path) const { return lookup(path) != nullptr; }

util::Result<sources::Node> MemberTree::parent_dir(const fs::path& dir) {
  auto* e = lookup(dir);
  if (!e) return fail(ErrorKind::not_found, "'" + dir.string() + "' is not in the base backup");
  return e->meta;
}

util::Status MemberTree::visit(const fs::path& path, Entry& e, sources::WalkVisitor& visitor) {
  if (e.meta.type != sources::NodeType::dir) {
    current_ = &e;
    current_path_ = path;
    return visitor.entry(path, e.meta);
  }
  BKP_TRY(visitor.enter_dir(path, e.meta));
  for (auto& [name, child] : e.children) BKP_TRY(visit(path / name, child, visitor));
  return visitor.leave_dir(path, e.meta);
}

util::Status MemberTree::walk(const fs::path& root, sources::WalkVisitor& visitor) {
  auto* e = lookup(root);
  if (!e) return fail(ErrorKind::not_found, "'" + root.string() + "' is not in the base backup");
  return visit(root, *e, visitor);
}

util::Result<StoredContent> MemberTree::content(const fs::path& path) {
  Entry* e = current_ && current_path_ == path ? current_ : lookup(path);
  if (!e) return fail(ErrorKind::not_found, "'" + path.string() + "' is not in the base backup");
  // Each file's content is asked for once, when its tree is built.
  return std::move(e->content);
}

}  // namespace bkp::engine
