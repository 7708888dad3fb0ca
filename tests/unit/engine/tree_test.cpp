// Tree blobs (CBOR codec), tree traversal, content storage and recovery
// job rows, at the level of their own functions.
#include <fcntl.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <functional>

#include "engine/content.hpp"
#include "engine/recovery_job.hpp"
#include "engine/restore.hpp"
#include "engine/tree.hpp"
#include "engine/tree_walk.hpp"
#include "engine_fixture.hpp"

using namespace bkp;
using namespace bkp::test;
using engine::Tree;
using engine::TreeNode;
using sources::NodeType;

namespace {

repo::BlobId id_of(std::uint8_t fill) {
  repo::BlobId id;
  id.fill(fill);
  return id;
}

TreeNode full_node() {
  TreeNode n;
  auto& m = n.meta;
  m.name = "bin\x01ary\xff";
  m.type = NodeType::file;
  m.mode = 04755;
  m.uid = 123456;
  m.gid = 654321;
  m.user = "alice";
  m.group = "staff";
  m.mtime_ns = 1'600'000'000'123'456'789;
  m.atime_ns = -5;  // before 1970
  m.ctime_ns = 1;
  m.size = 1ull << 40;
  m.inode = ~0ull;
  m.device = 42;
  m.nlink = 3;
  m.sparse = true;
  m.xattrs = {{"user.a", {0, 1, 2}}, {"user.b", {}}};
  n.content = {id_of(1), id_of(2)};
  return n;
}

// The tree encoder as it was, through nlohmann::json: encode_tree writes
// CBOR directly and must give exactly these bytes (tree ids, and so dedup
// against every tree already stored, depend on them).
nlohmann::json ref_bin(util::ByteView b) {
  return nlohmann::json::binary(std::vector<std::uint8_t>(b.begin(), b.end()));
}
nlohmann::json ref_bin(std::string_view s) { return ref_bin(util::as_bytes(s)); }

util::Bytes reference_encode_tree(const Tree& tree) {
  using nlohmann::json;
  json nodes = json::array();
  for (auto& n : tree.nodes) {
    const auto& m = n.meta;
    json j{{"n", ref_bin(m.name)}, {"t", static_cast<int>(m.type)},
           {"m", m.mode},          {"u", m.uid},
           {"g", m.gid},           {"mt", m.mtime_ns},
           {"at", m.atime_ns},     {"ct", m.ctime_ns},
           {"i", m.inode},         {"d", m.device},
           {"l", m.nlink}};
    if (!m.user.empty()) j["U"] = m.user;
    if (!m.group.empty()) j["G"] = m.group;
    if (m.type == NodeType::file) j["s"] = m.size;
    if (m.rdev) j["r"] = m.rdev;
    if (!m.link_target.empty()) j["lt"] = ref_bin(m.link_target);
    if (m.sparse) j["sp"] = true;
    if (!m.xattrs.empty()) {
      json x = json::array();
      for (auto& a : m.xattrs) x.push_back(json::array({ref_bin(a.name), ref_bin(a.value)}));
      j["x"] = std::move(x);
    }
    if (!n.content.empty()) {
      json c = json::array();
      for (auto& id : n.content) c.push_back(ref_bin(id));
      j["c"] = std::move(c);
    }
    if (n.subtree) j["st"] = ref_bin(*n.subtree);
    nodes.push_back(std::move(j));
  }
  return json::to_cbor(json{{"v", 1}, {"nodes", std::move(nodes)}});
}

void check_same(const TreeNode& a, const TreeNode& b) {
  CHECK(a.meta.name == b.meta.name);
  CHECK(a.meta.type == b.meta.type);
  CHECK(a.meta.mode == b.meta.mode);
  CHECK(a.meta.uid == b.meta.uid);
  CHECK(a.meta.gid == b.meta.gid);
  CHECK(a.meta.user == b.meta.user);
  CHECK(a.meta.group == b.meta.group);
  CHECK(a.meta.mtime_ns == b.meta.mtime_ns);
  CHECK(a.meta.atime_ns == b.meta.atime_ns);
  CHECK(a.meta.ctime_ns == b.meta.ctime_ns);
  CHECK(a.meta.size == b.meta.size);
  CHECK(a.meta.inode == b.meta.inode);
  CHECK(a.meta.device == b.meta.device);
  CHECK(a.meta.nlink == b.meta.nlink);
  CHECK(a.meta.rdev == b.meta.rdev);
  CHECK(a.meta.link_target == b.meta.link_target);
  CHECK(a.meta.sparse == b.meta.sparse);
  REQUIRE(a.meta.xattrs.size() == b.meta.xattrs.size());
  for (std::size_t i = 0; i < a.meta.xattrs.size(); ++i) {
    CHECK(a.meta.xattrs[i].name == b.meta.xattrs[i].name);
    CHECK(a.meta.xattrs[i].value == b.meta.xattrs[i].value);
  }
  CHECK(a.content == b.content);
  CHECK(a.subtree == b.subtree);
}

util::Bytes cbor(const nlohmann::json& j) { return nlohmann::json::to_cbor(j); }

nlohmann::json minimal_node() {
  return {{"n", nlohmann::json::binary({'x'})},
          {"t", 0},
          {"m", 420},
          {"u", 0},
          {"g", 0},
          {"mt", 0},
          {"at", 0},
          {"ct", 0},
          {"i", 1},
          {"d", 1},
          {"l", 1}};
}

}  // namespace

TEST_CASE("tree codec", "[tree]") {
  Tree t;
  t.nodes.push_back(full_node());
  TreeNode dir;
  dir.meta.name = "dir";
  dir.meta.type = NodeType::dir;
  dir.meta.mode = 0700;
  dir.subtree = id_of(9);
  t.nodes.push_back(dir);
  TreeNode link;
  link.meta.name = "link";
  link.meta.type = NodeType::symlink;
  link.meta.link_target = "../t\x01x";
  t.nodes.push_back(link);
  TreeNode dev;
  dev.meta.name = "null";
  dev.meta.type = NodeType::chardev;
  dev.meta.rdev = 0x0103;
  t.nodes.push_back(dev);
  std::sort(t.nodes.begin(), t.nodes.end(),
            [](const TreeNode& a, const TreeNode& b) { return a.meta.name < b.meta.name; });

  auto bytes = engine::encode_tree(t);
  CHECK(engine::encode_tree(t) == bytes);  // deterministic, so equal trees dedup
  auto back = engine::decode_tree(bytes);
  REQUIRE_OK(back);
  REQUIRE(back->nodes.size() == t.nodes.size());
  for (std::size_t i = 0; i < t.nodes.size(); ++i) check_same(t.nodes[i], back->nodes[i]);

  SECTION("find") {
    REQUIRE(back->find("dir") != nullptr);
    CHECK(back->find("dir")->subtree == id_of(9));
    CHECK(back->find("link")->meta.link_target == link.meta.link_target);
    CHECK(back->find("nope") == nullptr);
    CHECK(back->find("") == nullptr);
    CHECK(back->find("zzz") == nullptr);
    CHECK(Tree{}.find("x") == nullptr);
  }

  SECTION("a size is written for files only") {
    Tree d;
    TreeNode n;
    n.meta.name = "d";
    n.meta.type = NodeType::dir;
    n.meta.size = 4096;
    d.nodes.push_back(n);
    auto r = engine::decode_tree(engine::encode_tree(d));
    REQUIRE_OK(r);
    CHECK(r->nodes[0].meta.size == 0);
  }

  SECTION("a minimal node decodes with defaults") {
    auto r = engine::decode_tree(cbor({{"v", 1}, {"nodes", {minimal_node()}}}));
    REQUIRE_OK(r);
    REQUIRE(r->nodes.size() == 1);
    CHECK(r->nodes[0].meta.name == "x");
    CHECK(r->nodes[0].meta.user.empty());
    CHECK(r->nodes[0].meta.xattrs.empty());
    CHECK_FALSE(r->nodes[0].subtree.has_value());
  }
}

TEST_CASE("invalid tree blobs", "[tree]") {
  auto bad = [](const util::Bytes& b) {
    auto r = engine::decode_tree(b);
    REQUIRE_FALSE(r.ok());
    return r.error();
  };
  CHECK(bad(util::to_bytes("not cbor at all")).kind == util::ErrorKind::corrupt);
  CHECK(bad({}).kind == util::ErrorKind::corrupt);
  CHECK(bad(cbor({{"nodes", nlohmann::json::array()}})).kind == util::ErrorKind::corrupt);
  auto newer = bad(cbor({{"v", 2}, {"nodes", nlohmann::json::array()}}));
  CHECK(newer.kind == util::ErrorKind::usage);
  CHECK(newer.message.find("upgrade bkp") != std::string::npos);

  auto with = [](const std::function<void(nlohmann::json&)>& edit) {
    auto n = minimal_node();
    edit(n);
    return cbor({{"v", 1}, {"nodes", {n}}});
  };
  CHECK(bad(with([](auto& n) { n["t"] = 7; })).message.find("unknown node type") !=
        std::string::npos);
  CHECK(bad(with([](auto& n) { n["t"] = -1; })).kind == util::ErrorKind::corrupt);
  CHECK(bad(with([](auto& n) { n.erase("m"); })).kind == util::ErrorKind::corrupt);
  CHECK(bad(with([](auto& n) { n["n"] = "text, not bytes"; })).kind == util::ErrorKind::corrupt);
  CHECK(bad(with([](auto& n) {
          n["c"] = {nlohmann::json::binary({1, 2, 3})};
        })).message.find("id is not 32 bytes") != std::string::npos);
  CHECK(bad(with([](auto& n) { n["st"] = nlohmann::json::binary({1}); })).kind ==
        util::ErrorKind::corrupt);
  CHECK(bad(with([](auto& n) { n["x"] = {{nlohmann::json::binary({'a'})}}; })).kind ==
        util::ErrorKind::corrupt);
  CHECK(bad(with([](auto& n) { n["u"] = "root"; })).kind == util::ErrorKind::corrupt);
  CHECK(bad(cbor({{"v", 1}, {"nodes", 5}})).kind == util::ErrorKind::corrupt);

  // Floats where integers belong: once a static_cast with undefined
  // behaviour for 1e300, and 1.5 read silently as 1.
  CHECK(bad(cbor({{"v", 1e300}, {"nodes", nlohmann::json::array()}})).kind ==
        util::ErrorKind::corrupt);
  CHECK(bad(cbor({{"v", 1.0}, {"nodes", nlohmann::json::array()}})).kind ==
        util::ErrorKind::corrupt);
  for (const char* field : {"t", "m", "u", "g", "mt", "at", "ct", "i", "d", "l", "s", "r"}) {
    INFO(field);
    CHECK(bad(with([&](auto& n) { n[field] = 1e300; })).kind == util::ErrorKind::corrupt);
    CHECK(bad(with([&](auto& n) { n[field] = 1.5; })).kind == util::ErrorKind::corrupt);
  }
  CHECK(bad(with([](auto& n) { n["u"] = std::uint64_t{1} << 40; })).message.find("uid") !=
        std::string::npos);
  CHECK(bad(with([](auto& n) { n["s"] = -1; })).kind == util::ErrorKind::corrupt);
  // Nesting deep enough to overflow a recursive parser's stack.
  util::Bytes deep(10000, 0x81);  // CBOR: an array of one element, 10,000 times
  deep.push_back(0x00);
  CHECK(bad(deep).message.find("nested deeper") != std::string::npos);

  // Names that are not one path component, and unsorted or repeated names.
  auto named = [](std::string name) {
    auto n = minimal_node();
    n["n"] = nlohmann::json::binary(std::vector<std::uint8_t>(name.begin(), name.end()));
    return n;
  };
  for (std::string name :
       {std::string(), std::string("."), std::string(".."), std::string("../escape"),
        std::string("a/b"), std::string("/"), std::string("a\0b", 3)}) {
    INFO(name);
    auto e = bad(cbor({{"v", 1}, {"nodes", {named(name)}}}));
    CHECK(e.kind == util::ErrorKind::corrupt);
    CHECK(e.message.find("bad name") != std::string::npos);
  }
  CHECK(bad(cbor({{"v", 1}, {"nodes", {named("b"), named("a")}}})).message.find("out of order") !=
        std::string::npos);
  CHECK(bad(cbor({{"v", 1}, {"nodes", {named("a"), named("a")}}})).message.find("out of order") !=
        std::string::npos);
  auto fine =
      engine::decode_tree(cbor({{"v", 1}, {"nodes", {named("..."), named(".a"), named("a")}}}));
  REQUIRE_OK(fine);
  CHECK(fine->nodes.size() == 3);
}

namespace {

// A snapshot whose root tree is `tree` (CBOR as given, not checked), for
// what a damaged or hostile repository may hold.
repo::Snapshot crafted_snapshot(RepoFixture& f, const nlohmann::json& tree) {
  auto bytes = cbor(tree);
  repo::Snapshot s;
  s.id = repo::new_snapshot_id();
  s.time = s.completed = "2024-01-01T00:00:00.000000Z";
  s.source_kind = "files";
  s.source_name = "crafted";
  s.tree = f.repo().blob_id(bytes);
  REQUIRE_OK(f.repo().save_blob(repo::BlobType::tree, bytes, s.tree));
  REQUIRE_OK(f.repo().flush());
  REQUIRE_OK(f.repo().save_snapshot(s));
  return s;
}

nlohmann::json file_node(const std::string& name, std::uint64_t size,
                         const std::vector<repo::BlobId>& chunks) {
  auto n = minimal_node();
  n["n"] = nlohmann::json::binary(std::vector<std::uint8_t>(name.begin(), name.end()));
  n["s"] = size;
  n["c"] = nlohmann::json::array();
  for (auto& c : chunks)
    n["c"].push_back(nlohmann::json::binary(std::vector<std::uint8_t>(c.begin(), c.end())));
  return n;
}

}  // namespace

TEST_CASE("restoring damaged or hostile trees", "[tree][restore]") {
  RepoFixture f;
  auto data = util::to_bytes("hello");
  auto chunk = f.repo().blob_id(data);
  REQUIRE_OK(f.repo().save_blob(repo::BlobType::data, data, chunk));

  SECTION("a name that climbs out of the target") {
    auto snap = crafted_snapshot(f, {{"v", 1}, {"nodes", {file_node("../escape", 5, {chunk})}}});
    engine::RestoreOptions o;
    o.target = f.root() / "t" / "inner";
    auto r = engine::restore_to_directory(f.repo(), snap, o);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == util::ErrorKind::verification);
    CHECK_FALSE(fs::exists(f.root() / "t" / "escape"));
    auto jobs = f.repo().catalog().list_recovery_jobs();
    REQUIRE_OK(jobs);
    REQUIRE(jobs->size() == 1);
    CHECK(jobs->front().status == "failed");
  }

  SECTION("a file whose content is shorter than its size") {
    auto snap = crafted_snapshot(f, {{"v", 1}, {"nodes", {file_node("short", 10, {chunk})}}});
    engine::RestoreOptions o;
    o.target = f.root() / "t";
    auto r = engine::restore_to_directory(f.repo(), snap, o);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == util::ErrorKind::corrupt);
    int null_fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    REQUIRE(null_fd >= 0);
    auto tar = engine::restore_to_tar(f.repo(), snap, {}, null_fd);
    ::close(null_fd);
    REQUIRE_FALSE(tar.ok());
    CHECK(tar.error().kind == util::ErrorKind::verification);
    CHECK(tar.error().message == "'/short' has 5 bytes, the snapshot says 10");
  }
}

TEST_CASE("walking a snapshot's trees", "[tree]") {
  RepoFixture f;
  const fs::path src = f.root() / "src";
  fs::create_directories(src / "d1" / "d2");
  fs::create_directories(src / "skip");
  write_file(src / "d1" / "d2" / "f", "f");
  write_file(src / "skip" / "g", "g");
  write_file(src / "top", "top");
  auto snap = f.backup({src}).snapshot;
  const std::string p = src.string();

  std::vector<std::string> entered, left;
  auto st = engine::walk_tree(
      f.repo(), snap.tree,
      engine::TreeVisitor{
          [&](const std::string& path, const TreeNode&) -> util::Result<engine::Descend> {
            entered.push_back(path);
            return path == p + "/skip" ? engine::Descend::no : engine::Descend::yes;
          },
          [&](const std::string& path, const TreeNode&) -> util::Status {
            left.push_back(path);
            return {};
          }});
  REQUIRE_OK(st);
  // Depth first, names sorted; "skip" is entered but not descended into.
  std::vector<std::string> tail(entered.end() - 6, entered.end());
  CHECK(tail == std::vector<std::string>{p, p + "/d1", p + "/d1/d2", p + "/d1/d2/f", p + "/skip",
                                         p + "/top"});
  CHECK(std::find(left.begin(), left.end(), p + "/skip") == left.end());
  CHECK(std::find(left.begin(), left.end(), p + "/d1/d2") < std::find(left.begin(), left.end(), p));

  SECTION("a prefix is prepended") {
    auto sub = engine::find_node(f.repo(), snap.tree, p + "/d1");
    REQUIRE_OK(sub);
    std::vector<std::string> seen;
    REQUIRE_OK(engine::walk_tree(f.repo(), *sub->subtree,
                                 engine::TreeVisitor{[&](const std::string& path, const TreeNode&) {
                                                       seen.push_back(path);
                                                       return util::Result<engine::Descend>(
                                                           engine::Descend::yes);
                                                     },
                                                     {}},
                                 "/x"));
    CHECK(seen == std::vector<std::string>{"/x/d2", "/x/d2/f"});
  }

  SECTION("an error from the visitor stops the walk") {
    int calls = 0;
    auto stopped = engine::walk_tree(
        f.repo(), snap.tree,
        engine::TreeVisitor{
            [&](const std::string&, const TreeNode&) -> util::Result<engine::Descend> {
              ++calls;
              return util::fail(util::ErrorKind::generic, "stop here");
            },
            {}});
    REQUIRE_FALSE(stopped.ok());
    CHECK(stopped.error().message == "stop here");
    CHECK(calls == 1);
  }

  SECTION("find_node") {
    auto file = engine::find_node(f.repo(), snap.tree, p + "/d1/d2/f");
    REQUIRE_OK(file);
    CHECK(file->meta.type == NodeType::file);
    CHECK(file->meta.size == 1);
    auto trailing = engine::find_node(f.repo(), snap.tree, p + "/d1/");
    REQUIRE_OK(trailing);
    CHECK(trailing->meta.type == NodeType::dir);
    auto missing = engine::find_node(f.repo(), snap.tree, p + "/nope");
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().kind == util::ErrorKind::not_found);
    CHECK(missing.error().message == "'" + p + "/nope' is not in the snapshot");
    auto below_file = engine::find_node(f.repo(), snap.tree, p + "/top/x");
    REQUIRE_FALSE(below_file.ok());
    CHECK(below_file.error().kind == util::ErrorKind::not_found);
    auto root = engine::find_node(f.repo(), snap.tree, "/");
    REQUIRE_FALSE(root.ok());
    CHECK(root.error().kind == util::ErrorKind::usage);
  }

  SECTION("a tree blob that does not decode") {
    auto junk = util::to_bytes("junk");
    auto id = f.repo().blob_id(junk);
    REQUIRE_OK(f.repo().save_blob(repo::BlobType::tree, junk, id));
    REQUIRE_OK(f.repo().flush());
    auto t = engine::load_tree(f.repo(), id);
    REQUIRE_FALSE(t.ok());
    CHECK(t.error().kind == util::ErrorKind::verification);
    CHECK(t.error().message.find("tree " + util::to_hex(id)) == 0);
  }
}

TEST_CASE("storing and loading content", "[content]") {
  RepoFixture f(small_options());
  const auto data = random_bytes(300 * 1024, 4);
  std::size_t pos = 0, told = 0;
  auto read = [&](std::uint8_t* buf, std::size_t cap) -> util::Result<std::size_t> {
    std::size_t n = std::min(cap, data.size() - pos);
    std::copy_n(data.begin() + static_cast<std::ptrdiff_t>(pos), n, buf);
    pos += n;
    return n;
  };
  auto stored = engine::store_stream(f.repo(), read, engine::Checksum::sha256,
                                     [&](std::size_t n) { told += n; });
  REQUIRE_OK(stored);
  CHECK(stored->size == data.size());
  CHECK(told == data.size());
  CHECK(stored->chunks.size() > 5);
  REQUIRE(stored->sha256.has_value());
  CHECK(*stored->sha256 == crypto::sha256(data));

  util::Bytes back;
  REQUIRE_OK(engine::load_content(f.repo(), stored->chunks, [&](util::ByteView b) -> util::Status {
    back.insert(back.end(), b.begin(), b.end());
    return {};
  }));
  CHECK(back == data);

  SECTION("without a checksum") {
    pos = 0;
    auto again = engine::store_stream(f.repo(), read, engine::Checksum::no);
    REQUIRE_OK(again);
    CHECK_FALSE(again->sha256.has_value());
    CHECK(again->chunks == stored->chunks);  // deduplicated: same ids
  }

  SECTION("errors pass through") {
    auto failing = [](std::uint8_t*, std::size_t) -> util::Result<std::size_t> {
      return util::fail(util::ErrorKind::io, "source broke");
    };
    auto r = engine::store_stream(f.repo(), failing, engine::Checksum::no);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message == "source broke");
    auto w = engine::load_content(f.repo(), stored->chunks, [](util::ByteView) -> util::Status {
      return util::fail(util::ErrorKind::io, "sink broke");
    });
    REQUIRE_FALSE(w.ok());
    CHECK(w.error().message == "sink broke");
    auto unknown = engine::load_content(f.repo(), {id_of(7)},
                                        [](util::ByteView) -> util::Status { return {}; });
    REQUIRE_FALSE(unknown.ok());
    CHECK(unknown.error().kind == util::ErrorKind::verification);
  }
}

TEST_CASE("recovery job rows", "[jobs]") {
  RepoFixture f;
  auto& cat = f.repo().catalog();
  auto row = [&](const std::string& id) {
    auto r = cat.get_recovery_job(id);
    REQUIRE_OK(r);
    REQUIRE(r->has_value());
    return **r;
  };

  engine::RecoveryJob job(cat, "snap-id", "/target");
  REQUIRE_OK(job.start());
  CHECK(row(job.id()).status == "running");
  CHECK(row(job.id()).progress == 0);

  job.progress(50, 100);
  CHECK(row(job.id()).progress == 50);
  job.progress(52, 100);  // throttled: less than 5 points within a second
  CHECK(row(job.id()).progress == 50);
  job.progress(100, 100);  // 100 only when finished
  CHECK(row(job.id()).progress == 99);
  job.progress(5, 0);  // an unknown total is no percentage
  job.step("one", "first");
  job.step("two");
  REQUIRE_OK(job.finish({}));
  auto done = row(job.id());
  CHECK(done.status == "completed");
  CHECK(done.progress == 100);
  auto steps = nlohmann::json::parse(done.steps);
  REQUIRE(steps.size() == 2);
  CHECK(steps[0]["step"] == "one");
  CHECK(steps[0]["detail"] == "first");
  CHECK(steps[1]["detail"] == "");
  CHECK(!steps[0]["time"].get<std::string>().empty());

  engine::RecoveryJob failed(cat, "snap-id", "/elsewhere");
  REQUIRE_OK(failed.start());
  REQUIRE_OK(failed.finish(util::fail(util::ErrorKind::io, "disk on fire")));
  auto bad = row(failed.id());
  CHECK(bad.status == "failed");
  CHECK(bad.error_message == "disk on fire");
  CHECK(bad.target_database == "/elsewhere");
}

TEST_CASE("encode_tree gives exactly the bytes of the json encoder it replaced", "[tree]") {
  // Every optional field, every head size of lengths and integers
  // (<= 23, 1, 2, 4 and 8 bytes), negative times, and the empty tree.
  std::vector<Tree> trees(1);
  Tree t;
  t.nodes.push_back(full_node());
  TreeNode dir;
  dir.meta.name = std::string(24, 'd');
  dir.meta.type = NodeType::dir;
  dir.meta.mode = 0755;
  dir.meta.mtime_ns = -1'000'000'000'000;
  dir.meta.atime_ns = -24;
  dir.meta.ctime_ns = -25;
  dir.subtree = id_of(9);
  t.nodes.push_back(dir);
  TreeNode link;
  link.meta.name = std::string(300, 'l');
  link.meta.type = NodeType::symlink;
  link.meta.link_target = std::string(70000, 't');
  link.meta.uid = 255;
  link.meta.gid = 256;
  link.meta.inode = 65535;
  link.meta.device = 65536;
  link.meta.nlink = 0xffffffffull + 1;
  t.nodes.push_back(link);
  TreeNode dev;
  dev.meta.name = "dev";
  dev.meta.type = NodeType::chardev;
  dev.meta.rdev = 0x0501;
  dev.meta.user = std::string(23, 'u');
  dev.meta.xattrs = {{"user.big", util::Bytes(256, 7)}};
  t.nodes.push_back(dev);
  TreeNode many;
  many.meta.name = "many";
  many.meta.size = 0;
  for (int i = 0; i < 300; ++i) many.content.push_back(id_of(static_cast<std::uint8_t>(i)));
  t.nodes.push_back(many);
  trees.push_back(t);
  Tree wide;  // more than 255 nodes: a two-byte array head
  for (int i = 0; i < 300; ++i) {
    TreeNode n;
    n.meta.name = "f" + std::to_string(1000 + i);
    n.meta.size = static_cast<std::uint64_t>(i) * 1000;
    n.content = {id_of(static_cast<std::uint8_t>(i))};
    wide.nodes.push_back(n);
  }
  trees.push_back(wide);
  for (std::size_t i = 0; i < trees.size(); ++i) {
    INFO("tree " << i);
    CHECK(engine::encode_tree(trees[i]) == reference_encode_tree(trees[i]));
  }
}
