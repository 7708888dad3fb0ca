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

// The minimal CBOR writer encode_tree needs, with json::to_cbor's choices:
// the shortest head for every length and integer, definite lengths, map
// keys as text in std::map order (bytewise), binary without a tag.
namespace cbor {

constexpr std::uint8_t unsigned_int = 0, negative_int = 1, bytes = 2, text_string = 3, array = 4,
                       map = 5;

void head(util::Bytes& out, std::uint8_t major, std::uint64_t v) {
  const auto m = static_cast<std::uint8_t>(major << 5);
  int n = 0;  // bytes of argument after the head byte
  if (v <= 23) {
    out.push_back(static_cast<std::uint8_t>(m | v));
    return;
  }
  if (v <= 0xff) {
    out.push_back(m | 24);
    n = 1;
  } else if (v <= 0xffff) {
    out.push_back(m | 25);
    n = 2;
  } else if (v <= 0xffffffff) {
    out.push_back(m | 26);
    n = 4;
  } else {
    out.push_back(m | 27);
    n = 8;
  }
  for (int i = n - 1; i >= 0; --i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

void integer(util::Bytes& out, std::int64_t v) {
  if (v >= 0)
    head(out, unsigned_int, static_cast<std::uint64_t>(v));
  else
    head(out, negative_int, static_cast<std::uint64_t>(-1 - v));
}

void text(util::Bytes& out, std::string_view s) {
  head(out, text_string, s.size());
  out.insert(out.end(), s.begin(), s.end());
}

void binary(util::Bytes& out, util::ByteView b) {
  head(out, bytes, b.size());
  out.insert(out.end(), b.begin(), b.end());
}

void binary(util::Bytes& out, std::string_view s) { binary(out, util::as_bytes(s)); }

}  // namespace cbor

// encode_node(n) as CBOR, keys in the map's order: "G" "U" "at" "c" "ct"
// "d" "g" "i" "l" "lt" "m" "mt" "n" "r" "s" "sp" "st" "t" "u" "x".
void write_node(util::Bytes& out, const TreeNode& n) {
  const auto& m = n.meta;
  const bool is_file = m.type == sources::NodeType::file;
  const std::size_t fields = 11 + !m.user.empty() + !m.group.empty() + is_file + (m.rdev != 0) +
                             !m.link_target.empty() + m.sparse + !m.xattrs.empty() +
                             !n.content.empty() + n.subtree.has_value();
  cbor::head(out, cbor::map, fields);
  if (!m.group.empty()) {
    cbor::text(out, "G");
    cbor::text(out, m.group);
  }
  if (!m.user.empty()) {
    cbor::text(out, "U");
    cbor::text(out, m.user);
  }
  cbor::text(out, "at");
  cbor::integer(out, m.atime_ns);
  if (!n.content.empty()) {
    cbor::text(out, "c");
    cbor::head(out, cbor::array, n.content.size());
    for (auto& id : n.content) cbor::binary(out, id);
  }
  cbor::text(out, "ct");
  cbor::integer(out, m.ctime_ns);
  cbor::text(out, "d");
  cbor::head(out, cbor::unsigned_int, m.device);
  cbor::text(out, "g");
  cbor::head(out, cbor::unsigned_int, m.gid);
  cbor::text(out, "i");
  cbor::head(out, cbor::unsigned_int, m.inode);
  cbor::text(out, "l");
  cbor::head(out, cbor::unsigned_int, m.nlink);
  if (!m.link_target.empty()) {
    cbor::text(out, "lt");
    cbor::binary(out, m.link_target);
  }
  cbor::text(out, "m");
  cbor::head(out, cbor::unsigned_int, m.mode);
  cbor::text(out, "mt");
  cbor::integer(out, m.mtime_ns);
  cbor::text(out, "n");
  cbor::binary(out, m.name);
  if (m.rdev) {
    cbor::text(out, "r");
    cbor::head(out, cbor::unsigned_int, m.rdev);
  }
  if (is_file) {
    cbor::text(out, "s");
    cbor::head(out, cbor::unsigned_int, m.size);
  }
  if (m.sparse) {
    cbor::text(out, "sp");
    out.push_back(0xf5);  // true
  }
  if (n.subtree) {
    cbor::text(out, "st");
    cbor::binary(out, *n.subtree);
  }
  cbor::text(out, "t");
  cbor::integer(out, static_cast<int>(m.type));
  cbor::text(out, "u");
  cbor::head(out, cbor::unsigned_int, m.uid);
  if (!m.xattrs.empty()) {
    cbor::text(out, "x");
    cbor::head(out, cbor::array, m.xattrs.size());
    for (auto& a : m.xattrs) {
      cbor::head(out, cbor::array, 2);
      cbor::binary(out, a.name);
      cbor::binary(out, a.value);
    }
  }
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
  // Written directly, byte for byte what json::to_cbor gives for
  // {"nodes": [encode_node(n)...], "v": 1} (tests compare the two): building
  // the json first cost about 60 allocations per node, the most of any
  // step of a first backup.
  util::Bytes out;
  out.reserve(64 + tree.nodes.size() * 160);
  cbor::head(out, cbor::map, 2);
  cbor::text(out, "nodes");
  cbor::head(out, cbor::array, tree.nodes.size());
  for (auto& n : tree.nodes) write_node(out, n);
  cbor::text(out, "v");
  cbor::integer(out, kTreeVersion);
  return out;
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
