#include <catch2/catch.hpp>

#include <fstream>

#include "engine/postgres_tablespaces.hpp"
#include "test_tmpdir.hpp"

using namespace bkp::engine;
namespace fs = std::filesystem;

namespace {

bkp::repo::Snapshot with_tablespaces() {
  bkp::repo::Snapshot snap;
  snap.id = "0123456789abcdef";
  snap.extra["tablespaces"] = {{{"oid", "16384"}, {"name", "fast"}, {"location", "/ssd/fast"}},
                               {{"oid", "16390"}, {"name", "slow"}, {"location", "/hdd/slow"}}};
  return snap;
}

}  // namespace

TEST_CASE("--tablespace-map parses OLD=NEW", "[tablespace]") {
  auto m = parse_tablespace_mapping("/ssd/fast=/new/fast/");
  REQUIRE(m);
  CHECK(m->old_dir == "/ssd/fast");
  CHECK(m->new_dir == fs::path("/new/fast"));
  CHECK(parse_tablespace_mapping("fast=/x")->old_dir == "fast");
  for (auto bad : {"", "=", "=/x", "/a=", "/a", "/a=relative"}) {
    INFO(bad);
    auto r = parse_tablespace_mapping(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == bkp::util::ErrorKind::usage);
  }
}

TEST_CASE("tablespaces are placed under the target unless mapped", "[tablespace]") {
  bkp::test::TempDir tmp;
  auto snap = with_tablespaces();
  auto target = tmp.path() / "restored";
  auto places = place_tablespaces(snap, target, {});
  REQUIRE(places);
  REQUIRE(places->size() == 2);
  CHECK((*places)[0].dir == target / "bkp_tablespaces" / "16384");
  CHECK((*places)[1].space.name == "slow");

  // By directory and by name.
  auto mapped = place_tablespaces(snap, target,
                                  {{"/ssd/fast/", tmp.path() / "f"}, {"slow", tmp.path() / "s"}});
  REQUIRE(mapped);
  CHECK((*mapped)[0].dir == tmp.path() / "f");
  CHECK((*mapped)[1].dir == tmp.path() / "s");

  SECTION("a mapping that names no tablespace") {
    auto r = place_tablespaces(snap, target, {{"/nowhere", tmp.path() / "x"}});
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == bkp::util::ErrorKind::usage);
    CHECK(r.error().message.find("fast (/ssd/fast)") != std::string::npos);
  }
  SECTION("two tablespaces into one place") {
    auto r =
        place_tablespaces(snap, target, {{"fast", tmp.path() / "x"}, {"slow", tmp.path() / "x"}});
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == bkp::util::ErrorKind::usage);
  }
  SECTION("a place that is not empty") {
    fs::create_directories(tmp.path() / "full");
    std::ofstream(tmp.path() / "full" / "file") << "x";
    auto r = place_tablespaces(snap, target, {{"fast", tmp.path() / "full"}});
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == bkp::util::ErrorKind::exists);
    // An empty one is fine.
    fs::create_directories(tmp.path() / "empty");
    CHECK(place_tablespaces(snap, target, {{"fast", tmp.path() / "empty"}}));
  }
  SECTION("a damaged list in the snapshot") {
    snap.extra["tablespaces"][0]["oid"] = "../../etc";
    auto r = place_tablespaces(snap, target, {});
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == bkp::util::ErrorKind::verification);
  }
  SECTION("a snapshot without tablespaces") {
    bkp::repo::Snapshot none;
    auto r = place_tablespaces(none, target, {});
    REQUIRE(r);
    CHECK(r->empty());
    CHECK_FALSE(place_tablespaces(none, target, {{"fast", "/x"}}));
  }
}
