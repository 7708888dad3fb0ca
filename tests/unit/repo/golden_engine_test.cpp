// The golden repository of format version 1 read through the engine: its
// tree decoder and a full restore. Lives beside golden_test.cpp (which needs
// nothing but lib/repo) and links the engine.
#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "crypto/hash.hpp"
#include "engine/restore.hpp"
#include "engine/tree_walk.hpp"
#include "golden.hpp"

using namespace bkp;
namespace fs = std::filesystem;

namespace {

std::string sha256_file(const fs::path& p) {
  auto bytes = util::read_file(p);
  REQUIRE(bytes.ok());
  return util::to_hex(crypto::sha256(*bytes));
}

}  // namespace

TEST_CASE("golden (engine): trees decode") {
  test::GoldenRepo g(BKP_GOLDEN_SETS);
  INFO(g.set);
  auto r = g.open();
  REQUIRE(r->sync_catalog().ok());
  for (auto& want : g.expected["snapshots"]) {
    auto s = r->load_snapshot(want["id"]);
    REQUIRE(s.ok());
    std::size_t files = 0;
    auto st = engine::walk_tree(
        *r, s->tree,
        engine::TreeVisitor{[&](const std::string&, const engine::TreeNode& n) {
                              if (n.meta.type == sources::NodeType::file) ++files;
                              return util::Result<engine::Descend>(engine::Descend::yes);
                            },
                            {}});
    INFO((st.ok() ? std::string() : st.error().message));
    REQUIRE(st.ok());
    CHECK(files == (s->source_kind == "stdin" ? 1u : s->backup_type == "full" ? 5u : 6u));
  }
  auto first = r->load_snapshot(g.expected["snapshots"][0]["id"]);
  REQUIRE(first.ok());
  auto root = engine::load_tree(*r, first->tree);
  REQUIRE(root.ok());
  REQUIRE(root->nodes.size() == 1);
  CHECK(root->nodes[0].meta.name == "tmp");
  CHECK(root->nodes[0].meta.type == sources::NodeType::dir);
}

TEST_CASE("golden (engine): restore") {
  test::GoldenRepo g(BKP_GOLDEN_SETS);
  INFO(g.set);
  auto r = g.open();
  REQUIRE(r->sync_catalog().ok());
  auto latest = r->load_snapshot(g.expected["snapshots"][2]["id"]);
  REQUIRE(latest.ok());
  engine::RestoreOptions options;
  options.target = g.dir.path() / "restored";
  auto report = engine::restore_to_directory(*r, *latest, options);
  INFO((report.ok() ? std::string() : report.error().message));
  REQUIRE(report.ok());
  CHECK(report->files == 6);
  for (auto& [path, sha] : g.expected["files"].items()) {
    INFO(path);
    CHECK(sha256_file(options.target / fs::path(path).relative_path()) == sha);
  }
  auto link = options.target / "tmp/bkp-golden-v1/tree/link";
  CHECK(fs::is_symlink(link));
  CHECK(fs::read_symlink(link) == "hello.txt");

  auto stream = r->load_snapshot(g.expected["snapshots"][1]["id"]);
  REQUIRE(stream.ok());
  auto out = g.dir.path() / "stdin.out";
  int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  REQUIRE(fd >= 0);
  auto st = engine::restore_to_stream(*r, *stream, "/stdin.txt", fd);
  ::close(fd);
  INFO((st.ok() ? std::string() : st.error().message));
  REQUIRE(st.ok());
  CHECK(sha256_file(out) == g.expected["stdin"]["sha256"]);
}
