// Prune beyond the basics of prune_test.cpp: WAL entries after a repack
// (no server needed: wal-push takes any file with a WAL file name), each
// source's own retention policy from the configuration, and two prunes at
// once.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <signal.h>

#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <thread>

#include "cli_helpers.hpp"
#include "prune_fixture.hpp"

using bkp::test::noise;
using bkp::test::PruneFixture;
using bkp::test::read;
using json = nlohmann::json;
namespace fs = std::filesystem;

TEST_CASE("after a repack, WAL entries name the new packs: wal-fetch without a catalog",
          "[cli][prune][wal]") {
  PruneFixture f;
  // One pack holding a file the WAL archive will share and one that goes.
  const auto shared = noise(3'000'000, 41);
  f.write("src/shared", shared);
  f.write("src/other", noise(3'000'000, 42));
  auto snap = f.backup();
  REQUIRE(std::distance(fs::directory_iterator(f.repo / "data"), fs::directory_iterator()) > 0);
  const std::string segment = "000000010000000000000007";
  f.write("pg_wal/" + segment, shared);
  auto push = f.ok_json({"wal-push", (f.dir / "pg_wal" / segment).string()});
  // Deduplicated against the snapshot's blobs: the entry names its pack.
  CHECK(push["stored_bytes_new"].get<std::uint64_t>() < 100'000);

  REQUIRE(f.bkp({"forget", snap}).status == 0);
  auto dry = f.ok_json({"prune", "--grace", "0", "--dry-run"});
  CHECK(dry["wal_entries_rewritten"].size() == 1);
  auto plan = f.ok_json({"prune", "--grace", "0"});
  CHECK(plan["packs_repacked"].size() >= 1);
  CHECK(plan["wal_entries_rewritten"] == json::array({"wal/00000001/" + segment}));
  CHECK(plan["wal_deleted"].empty());  // no base backup: WAL is never removed on a guess
  f.verify_clean("after the repack");

  // A new host: an empty catalog. wal-fetch reads the entry's locations only.
  f.cli.env["XDG_STATE_HOME"] = (f.dir / "state-new-host").string();
  auto r = f.bkp({"wal-fetch", segment, (f.dir / "fetched").string()});
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(read(f.dir / "fetched") == shared);
  // And after a catalog rebuild there.
  r = f.bkp({"catalog", "rebuild"});
  INFO(r.err);
  REQUIRE(r.status == 0);
  r = f.bkp({"wal-fetch", segment, (f.dir / "fetched2").string()});
  REQUIRE(r.status == 0);
  CHECK(read(f.dir / "fetched2") == shared);
  // A second prune has nothing left to point elsewhere.
  plan = f.ok_json({"prune", "--grace", "0"});
  CHECK(plan["wal_entries_rewritten"].empty());
}

TEST_CASE("each source's own retention table applies; options override them all",
          "[cli][prune][config]") {
  PruneFixture f;
  f.write("bkp.toml",
          "[retention]\nkeep_last = 1\n"
          "[retention.source.alpha]\nkeep_last = 2\n"
          "[retention.source.\"db:/srv/x.y\"]\nkeep_within = \"1y\"\n");
  const auto conf = (f.dir / "bkp.toml").string();
  std::map<std::string, std::vector<std::string>> ids;  // oldest first
  for (int i = 0; i < 3; ++i) {
    f.write("src/f", noise(1000, 900 + i));
    for (std::string source : {"alpha", "beta", "db:/srv/x.y"})
      ids[source].push_back(
          f.ok_json({"backup", "files", f.src.string(), "--source", source})["snapshot"]);
  }
  auto removed = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"--config", conf});
    auto plan = f.ok_json(args);
    auto v = plan["snapshots_removed"].get<std::vector<std::string>>();
    return std::set<std::string>(v.begin(), v.end());
  };
  // alpha keeps 2, beta the general 1, db everything within a year.
  CHECK(removed({"prune", "--dry-run"}) ==
        std::set<std::string>{ids["alpha"][0], ids["beta"][0], ids["beta"][1]});
  // --source limits the run to one source, with that source's policy.
  CHECK(removed({"prune", "--dry-run", "--source", "alpha"}) ==
        std::set<std::string>{ids["alpha"][0]});
  // Any keep option replaces every policy in the configuration.
  CHECK(removed({"prune", "--dry-run", "--keep-last", "3"}).empty());
  CHECK(removed({"prune", "--dry-run", "--keep-last", "1"}).size() == 6);

  // bkp config show says where each per-source value came from.
  auto r = f.bkp({"--config", conf, "config", "show", "--origin"});
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(r.out.find("retention.source.alpha.keep_last = 2    # config (" + conf + ")") !=
        std::string::npos);
  CHECK(r.out.find("retention.source.db:/srv/x.y.keep_within = 1y    # config") !=
        std::string::npos);

  // The real run removes what the dry run said, and the rest restores.
  CHECK(removed({"prune", "--grace", "0"}).size() == 3);
  f.verify_clean("after a per-source prune");

  // A badly typed per-source value is a usage error, and removes nothing.
  f.write("bkp.toml", "[retention.source.alpha]\nkeep_last = \"two\"\n");
  CHECK(f.bkp({"--config", conf, "prune"}).status == 2);
  f.write("bkp.toml", "[retention.source.alpha]\nkeep_within = \"soon\"\n");
  r = f.bkp({"--config", conf, "prune"});
  CHECK(r.status == 2);
  CHECK(r.err.find("retention.source.alpha.keep_within") != std::string::npos);
}

namespace {

// Lease objects in storage; not a write in progress ("<name>.tmp-..."),
// which the local backend never lists.
std::size_t leases(const PruneFixture& f) {
  auto dir = f.repo / "prune-lease";
  if (!fs::exists(dir)) return 0;
  std::size_t n = 0;
  for (auto& e : fs::directory_iterator(dir))
    n += e.path().filename().string().find(".tmp-") == std::string::npos;
  return n;
}

void some_history(PruneFixture& f, int round) {
  for (int s = 0; s < 3; ++s) {
    for (int i = 0; i < 6; ++i)
      f.write("src/f" + std::to_string(i), noise(300'000, 7000 + round * 100 + s * 10 + i));
    f.backup();
  }
}

}  // namespace

TEST_CASE("a running prune holds a lease: a second one exits 11; a dead one's lease expires",
          "[cli][prune][lease]") {
  PruneFixture f;
  f.cli.env["BKP_PRUNE_LEASE"] = "3s";
  // Catch the first prune while it holds its lease, and stop it there.
  std::optional<bkp::util::Child> first;
  for (int attempt = 0; attempt < 10 && !first; ++attempt) {
    some_history(f, attempt);
    auto child = f.spawn({"prune", "--keep-last", "1", "--grace", "0"});
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (leases(f) == 0 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    ::kill(child.pid(), SIGSTOP);
    if (leases(f) == 1) {
      first.emplace(std::move(child));
    } else {  // it finished first: try again with more to do
      ::kill(child.pid(), SIGCONT);
      REQUIRE(child.wait().ok());
    }
  }
  REQUIRE(first);
  auto r = f.bkp({"prune", "--grace", "0"});
  CHECK(r.status == 11);
  CHECK(r.err.find("another prune of this repository is running") != std::string::npos);
  CHECK(r.err.find("pid " + std::to_string(first->pid())) != std::string::npos);
  CHECK(leases(f) == 1);                             // the refused prune removed its own
  CHECK(f.bkp({"prune", "--dry-run"}).status == 0);  // a dry run takes no lease

  // The holder dies: its lease stays until it expires, then the next prune
  // goes on and clears it. Nobody unlocks anything.
  ::kill(first->pid(), SIGKILL);
  REQUIRE(first->wait().ok());
  CHECK(leases(f) == 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(3100));
  r = f.bkp({"prune", "--keep-last", "1", "--grace", "0"});
  INFO(r.err);
  CHECK(r.status == 0);
  CHECK(leases(f) == 0);
  f.verify_clean("after the prune that followed a dead one");
}

TEST_CASE("two prunes at once: never both at work, and the repository verifies clean",
          "[cli][prune][lease]") {
  PruneFixture f;
  int refused = 0;
  std::string last;
  for (int round = 0; round < 4; ++round) {
    some_history(f, round);
    for (int i = 0; i < 6; ++i)
      f.write("src/f" + std::to_string(i), noise(300'000, 9000 + round * 10 + i));
    last = f.backup();
    auto a = f.spawn({"prune", "--keep-last", "1", "--grace", "0", "--repack-threshold", "10"});
    auto b = f.spawn({"prune", "--keep-last", "1", "--grace", "0", "--repack-threshold", "10"});
    for (auto* c : {&a, &b}) {
      auto status = c->wait();
      REQUIRE(status.ok());
      INFO("round " << round);
      CHECK((*status == 0 || *status == 11));
      refused += *status == 11;
    }
    CHECK(leases(f) == 0);
    f.verify_clean("after two prunes at once");
  }
  std::printf("two prunes at once: %d of 8 refused with exit 11\n", refused);
  std::map<std::string, std::string> expected;
  for (int i = 0; i < 6; ++i) expected["f" + std::to_string(i)] = noise(300'000, 9030 + i);
  f.restores(last, expected);
}
