#include <catch2/catch.hpp>

#include <sys/stat.h>

#include "sources/files/walk_ahead.hpp"
#include "test_tmpdir.hpp"
#include "tree_fixture.hpp"

using namespace bkp;
using bkp::test::Event;
using bkp::test::Recorder;
namespace fs = std::filesystem;

namespace {

// Fails at the n-th entry, to see the walking thread stop.
class FailAt final : public Recorder {
 public:
  explicit FailAt(std::size_t n) : n_(n) {}
  util::Status entry(const fs::path& path, const sources::Node& node) override {
    BKP_TRY(Recorder::entry(path, node));
    if (events.size() >= n_) return util::fail(util::ErrorKind::io, "visitor gave up");
    return {};
  }

 private:
  std::size_t n_;
};

}  // namespace

TEST_CASE("walk_ahead reports exactly what walk reports", "[walk]") {
  test::TempDir tmp;
  auto tree = test::build_tree(tmp.path() / "t");
  // Many entries, so the walking thread fills its queue and waits.
  for (int i = 0; i < 5000; ++i) test::write_text(tree.root / ("many-" + std::to_string(i)), "x");
  ::chmod((tree.root / "many-7").c_str(), 0);  // still listed: lstat works
  Recorder direct, ahead;
  REQUIRE(sources::walk({tree.root}, {}, direct).ok());
  REQUIRE(sources::walk_ahead({tree.root}, {}, ahead).ok());
  REQUIRE(ahead.events.size() == direct.events.size());
  for (std::size_t i = 0; i < direct.events.size(); ++i) {
    INFO(i << " " << direct.events[i].path);
    CHECK(ahead.events[i].kind == direct.events[i].kind);
    CHECK(ahead.events[i].path == direct.events[i].path);
    CHECK(ahead.events[i].node.inode == direct.events[i].node.inode);
    CHECK(ahead.events[i].node.mtime_ns == direct.events[i].node.mtime_ns);
    CHECK(ahead.events[i].node.xattrs.size() == direct.events[i].node.xattrs.size());
    CHECK(ahead.events[i].error == direct.events[i].error);
  }
}

TEST_CASE("walk_ahead stops when the visitor fails, and reports walk errors", "[walk]") {
  test::TempDir tmp;
  fs::create_directories(tmp.path() / "d");
  for (int i = 0; i < 10000; ++i) test::write_text(tmp.path() / "d" / std::to_string(i), "x");
  FailAt visitor(10);
  auto st = sources::walk_ahead({tmp.path() / "d"}, {}, visitor);
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().message == "visitor gave up");
  CHECK(visitor.events.size() == 10);  // nothing delivered after the failure

  Recorder none;
  auto missing = sources::walk_ahead({tmp.path() / "missing"}, {}, none);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().kind == util::ErrorKind::not_found);
  CHECK(none.events.empty());
}

TEST_CASE("walk_ahead delivers skipped entries in order", "[walk]") {
  test::TempDir tmp;
  auto root = tmp.path() / "r";
  fs::create_directories(root / "locked");
  test::write_text(root / "locked" / "inside", "x");
  test::write_text(root / "z", "z");
  ::chmod((root / "locked").c_str(), 0);
  Recorder direct, ahead;
  REQUIRE(sources::walk({root}, {}, direct).ok());
  REQUIRE(sources::walk_ahead({root}, {}, ahead).ok());
  ::chmod((root / "locked").c_str(), 0700);
  REQUIRE(ahead.events.size() == direct.events.size());
  for (std::size_t i = 0; i < direct.events.size(); ++i) {
    CHECK(ahead.events[i].kind == direct.events[i].kind);
    CHECK(ahead.events[i].path == direct.events[i].path);
  }
}
