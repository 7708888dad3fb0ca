#include "engine/tree.hpp"

#include <nlohmann/json.hpp>

#include "repo/json_read.hpp"

#include <algorithm>
#include <cstring>
#include <optional>

namespace bkp::engine {

using nlohmann::json;
using util::ErrorKind;
using util::fail;

namespace {

constexpr int kTreeVersion = 1;

json bin(util::ByteView b) { return json::binary(std::vector<std::uint8_t>(b.begin(), b.end())); }
json bin(std::string_view s) { return bin(util::as_bytes(s)); }

std::string str(const json& j) {
  auto& b = j.get_binary();
  return std::string(b.begin(), b.end());
}

repo::BlobId id_of(const json& j) {
  auto& b = j.get_binary();
  if (b.size() != 32) throw json::type_error::create(302, "id is not 32 bytes", nullptr);
  repo::BlobId id;
  std::memcpy(id.data(), b.data(), 32);
  return id;
}

json encode_node(const TreeNode& n) {
  const auto& m = n.meta;
  json j{{"n", bin(m.name)}, {"t", static_cast<int>(m.type)},
         {"m", m.mode},      {"u", m.uid},
         {"g", m.gid},       {"mt", m.mtime_ns},
         {"at", m.atime_ns}, {"ct", m.ctime_ns},
         {"i", m.inode},     {"d", m.device},
         {"l", m.nlink}};
  if (!m.user.empty()) j["U"] = m.user;
  if (!m.group.empty()) j["G"] = m.group;
  if (m.type == sources::NodeType::file) j["s"] = m.size;
  if (m.rdev) j["r"] = m.rdev;
  if (!m.link_target.empty()) j["lt"] = bin(m.link_target);
  if (m.sparse) j["sp"] = true;
  if (!m.xattrs.empty()) {
    json x = json::array();
    for (auto& a : m.xattrs) x.push_back(json::array({bin(a.name), bin(a.value)}));
    j["x"] = std::move(x);
  }
  if (!n.content.empty()) {
    json c = json::array();
    for (auto& id : n.content) c.push_back(bin(id));
    j["c"] = std::move(c);
  }
  if (n.subtree) j["st"] = bin(*n.subtree);
  return j;
}

TreeNode decode_node(const json& j) {
  TreeNode n;
  auto& m = n.meta;
  m.name = str(j.at("n"));
  int t = repo::json_integer<int>(j.at("t"), "node type");
  if (t < 0 || t > static_cast<int>(sources::NodeType::socket)) {
    throw json::type_error::create(302, "unknown node type", nullptr);
  }
  m.type = static_cast<sources::NodeType>(t);
  m.mode = repo::json_integer<std::uint32_t>(j.at("m"), "mode");
  m.uid = repo::json_integer<std::uint32_t>(j.at("u"), "uid");
  m.gid = repo::json_integer<std::uint32_t>(j.at("g"), "gid");
  m.mtime_ns = repo::json_integer<std::int64_t>(j.at("mt"), "mtime");
  m.atime_ns = repo::json_integer<std::int64_t>(j.at("at"), "atime");
  m.ctime_ns = repo::json_integer<std::int64_t>(j.at("ct"), "ctime");
  m.inode = repo::json_integer<std::uint64_t>(j.at("i"), "inode");
  m.device = repo::json_integer<std::uint64_t>(j.at("d"), "device");
  m.nlink = repo::json_integer<std::uint64_t>(j.at("l"), "link count");
  m.user = j.value("U", "");
  m.group = j.value("G", "");
  m.size = j.contains("s") ? repo::json_integer<std::uint64_t>(j["s"], "size") : 0;
  m.rdev = j.contains("r") ? repo::json_integer<std::uint64_t>(j["r"], "rdev") : 0;
  if (j.contains("lt")) m.link_target = str(j["lt"]);
  m.sparse = j.value("sp", false);
  if (j.contains("x")) {
    for (auto& a : j["x"]) {
      auto& v = a.at(1).get_binary();
      m.xattrs.push_back({str(a.at(0)), util::Bytes(v.begin(), v.end())});
    }
  }
  if (j.contains("c")) {
    for (auto& c : j["c"]) n.content.push_back(id_of(c));
  }
  if (j.contains("st")) n.subtree = id_of(j["st"]);
  return n;
}

}  // namespace

const TreeNode* Tree::find(std::string_view name) const {
  auto it = std::lower_bound(nodes.begin(), nodes.end(), name,
                             [](const TreeNode& n, std::string_view k) { return n.meta.name < k; });
  return it != nodes.end() && it->meta.name == name ? &*it : nullptr;
}

util::Bytes encode_tree(const Tree& tree) {
  json nodes = json::array();
  for (auto& n : tree.nodes) nodes.push_back(encode_node(n));
  return json::to_cbor(json{{"v", kTreeVersion}, {"nodes", std::move(nodes)}});
}

util::Result<Tree> decode_tree(util::ByteView cbor) {
  try {
    Tree t;
    // Nodes are decoded as they are read; the first problem is kept and
    // reported after the version check ("v" follows "nodes" in the map), so
    // a newer format says "upgrade" rather than "not valid".
    std::optional<util::Error> problem;
    auto take = [&](const json& n) {
      if (problem) return;
      try {
        auto node = decode_node(n);
        // Names become paths under a restore target: one component each,
        // and strictly sorted (Tree::find relies on it; a duplicate would
        // be restored twice).
        const auto& name = node.meta.name;
        if (name.empty() || name == "." || name == ".." ||
            name.find_first_of(std::string_view("/\0", 2)) != std::string::npos) {
          problem = util::Error{ErrorKind::corrupt, "tree is not valid: bad name '" + name + "'"};
        } else if (!t.nodes.empty() && !(t.nodes.back().meta.name < name)) {
          problem =
              util::Error{ErrorKind::corrupt, "tree is not valid: '" + name + "' is out of order"};
        } else {
          t.nodes.push_back(std::move(node));
        }
      } catch (const json::exception& e) {
        problem = util::Error{ErrorKind::corrupt, std::string("tree is not valid: ") + e.what()};
      }
    };
    auto j = repo::parse_cbor_streaming(cbor, "nodes", take);
    if (repo::json_integer<int>(j.at("v"), "tree version") != kTreeVersion) {
      return fail(ErrorKind::usage, "tree format is newer than this bkp; upgrade bkp");
    }
    if (problem) return fail(*problem);
    // What is left under "nodes" was not an object.
    if (!j.at("nodes").is_array() || !j["nodes"].empty()) {
      return fail(ErrorKind::corrupt, "tree is not valid: a node is not a map");
    }
    return t;
  } catch (const json::exception& e) {
    return fail(ErrorKind::corrupt, std::string("tree is not valid: ") + e.what());
  }
}

}  // namespace bkp::engine
