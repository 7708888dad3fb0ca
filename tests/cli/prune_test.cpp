// forget, prune, hold and release through the real binary: space comes
// back, what remains restores bit for bit, a dry run changes nothing, holds
// and roles are enforced, and a prune killed at any point or running next
// to a backup leaves a repository that verifies clean.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <fstream>
#include <map>
#include <random>
#include <thread>

#include "cli_helpers.hpp"
#include "prune_fixture.hpp"
#include "util/fs.hpp"
#include "util/subprocess.hpp"

using bkp::test::Cli;
using bkp::test::noise;
using bkp::test::PruneFixture;
using bkp::test::read;
using bkp::test::Run;
using bkp::util::Child;
using bkp::util::SpawnOptions;
using json = nlohmann::json;
namespace fs = std::filesystem;
using std::chrono::milliseconds;

TEST_CASE("forget then prune frees space and what remains restores", "[cli][prune]") {
  PruneFixture f;
  f.write("src/keep", noise(2'000'000, 1));
  f.write("src/gone1", noise(3'000'000, 2));
  auto s1 = f.backup();
  fs::remove(f.src / "gone1");
  f.write("src/gone2", noise(3'000'000, 3));
  auto s2 = f.backup();
  fs::remove(f.src / "gone2");
  auto s3 = f.backup();
  auto before = f.data_bytes();

  auto forgot = f.ok_json({"forget", s1.substr(0, 8), s2});
  CHECK(forgot["removed"] == json::array({s1, s2}));
  CHECK(f.data_bytes() == before);  // forget alone frees nothing
  // A first prune marks (and copies live data out of the shared pack);
  // nothing is deleted within the grace period.
  auto marked = f.ok_json({"prune", "--grace", "1h"});
  CHECK(marked["packs_marked"].size() + marked["packs_repacked"].size() >= 2);
  CHECK(marked["bytes_freed"] == 0);
  CHECK(f.data_bytes() >= before);
  f.verify_clean("after marking");
  // A prune after the grace period (0: now) deletes.
  auto pruned = f.ok_json({"prune", "--grace", "0"});
  CHECK(pruned["bytes_freed"].get<std::uint64_t>() >= 6'000'000);
  CHECK(f.data_bytes() < before - 6'000'000);
  // No mark left (a write the kill interrupted may leave a ".tmp-" file,
  // which storage never lists).
  if (fs::exists(f.repo / "prune"))
    for (auto& e : fs::directory_iterator(f.repo / "prune"))
      CHECK(e.path().filename().string().find(".tmp-") != std::string::npos);
  f.verify_clean("after prune");
  f.restores(s3, {{"keep", noise(2'000'000, 1)}});
  // Unknown snapshots are refused, and nothing else changes.
  auto bad = f.bkp({"forget", "abcdef12"});
  CHECK(bad.status != 0);
  CHECK(bad.err.find("abcdef12") != std::string::npos);
}

TEST_CASE("prune repacks partly used packs", "[cli][prune]") {
  PruneFixture f;
  // Small files share packs; dropping most of them leaves packs mostly garbage.
  for (int i = 0; i < 8; ++i) f.write("src/f" + std::to_string(i), noise(120'000, 10 + i));
  auto s1 = f.backup();
  for (int i = 1; i < 8; ++i) fs::remove(f.src / ("f" + std::to_string(i)));
  auto s2 = f.backup();
  f.ok_json({"forget", s1});
  auto before = f.data_bytes();
  auto plan = f.ok_json({"prune", "--grace", "0", "--repack-threshold", "30"});
  CHECK(plan["packs_repacked"].size() >= 1);
  CHECK(plan["bytes_repacked"].get<std::uint64_t>() >= 120'000);
  CHECK(f.data_bytes() < before - 600'000);
  f.verify_clean("after repack");
  f.restores(s2, {{"f0", noise(120'000, 10)}});
  // A rebuilt catalog finds the copies.
  REQUIRE(f.bkp({"catalog", "rebuild"}).status == 0);
  f.restores(s2, {{"f0", noise(120'000, 10)}});
}

TEST_CASE("a dry run prints the plan and changes nothing", "[cli][prune]") {
  PruneFixture f;
  f.write("src/a", noise(1'500'000, 4));
  auto s1 = f.backup();
  f.write("src/a", noise(1'500'000, 5));
  f.backup();
  auto before = f.listing();
  auto dry_forget = f.ok_json({"forget", "--dry-run", s1});
  CHECK(dry_forget["removed"] == json::array({s1}));
  auto plan = f.ok_json({"prune", "--keep-last", "1", "--dry-run", "--grace", "0"});
  CHECK(plan["dry_run"] == true);
  CHECK(plan["snapshots_removed"] == json::array({s1}));
  CHECK(plan["bytes_freed"].get<std::uint64_t>() >= 1'500'000);
  auto text = f.bkp({"prune", "--keep-last", "1", "--dry-run"});
  CHECK(text.status == 0);
  CHECK(text.err.find("would remove snapshot " + s1.substr(0, 8)) != std::string::npos);
  CHECK(f.listing() == before);
  auto snaps = f.bkp({"snapshots", "--json"});
  CHECK(snaps.out.find(s1) != std::string::npos);
}

TEST_CASE("a held snapshot survives forget and prune until released", "[cli][prune]") {
  PruneFixture f;
  f.write("src/a", noise(800'000, 6));
  auto s1 = f.backup();
  f.write("src/a", noise(800'000, 7));
  auto s2 = f.backup();
  auto held = f.ok_json({"hold", s1.substr(0, 10), "--reason", "case 42"});
  CHECK(held["snapshot"] == s1);
  auto refused = f.bkp({"forget", s1});
  CHECK(refused.status == 1);
  CHECK(refused.err.find("legal hold") != std::string::npos);
  auto kept = f.ok_json({"prune", "--keep-last", "1", "--grace", "0"});
  CHECK(kept["snapshots_removed"].empty());
  // The hold is in storage: a rebuilt catalog knows it.
  REQUIRE(f.bkp({"catalog", "rebuild"}).status == 0);
  CHECK(f.bkp({"forget", s1}).status == 1);
  f.restores(s1, {{"a", noise(800'000, 6)}});
  f.ok_json({"release", s1});
  CHECK(f.bkp({"release", s1}).status != 0);  // not held any more
  auto gone = f.ok_json({"prune", "--keep-last", "1", "--grace", "0"});
  CHECK(gone["snapshots_removed"] == json::array({s1}));
  f.verify_clean("after release and prune");
  f.restores(s2, {{"a", noise(800'000, 7)}});
}

TEST_CASE("restore and backup slots may not forget, prune, hold or release", "[cli][prune]") {
  PruneFixture f;
  f.write("src/a", noise(10'000, 8));
  auto s1 = f.backup();
  for (std::string role : {"restore", "backup"}) {
    auto kf = (f.dir / (role + ".key")).string();
    auto add = f.bkp({"keys", "add", "--role", role, "--new-key-file", kf, "--generate-key-file"});
    INFO(add.err);
    REQUIRE(add.status == 0);
    auto as = [&](std::vector<std::string> more) {
      std::vector<std::string> full{"-r", f.repo.string(), "--key-file", kf};
      full.insert(full.end(), more.begin(), more.end());
      return f.cli.run(full);
    };
    for (auto cmd : std::vector<std::vector<std::string>>{
             {"forget", s1}, {"prune", "--keep-last", "1"}, {"hold", s1}, {"release", s1}}) {
      auto r = as(cmd);
      INFO(role << " " << cmd[0] << ": " << r.err);
      CHECK(r.status == 1);
      CHECK(r.err.find("only an admin slot may delete") != std::string::npos);
    }
  }
  CHECK(f.bkp({"snapshots", "--json"}).out.find(s1) != std::string::npos);
}

TEST_CASE("bad prune options are usage errors", "[cli][prune]") {
  PruneFixture f;
  CHECK(f.bkp({"prune", "--keep-within", "soon"}).status == 2);
  CHECK(f.bkp({"prune", "--max-repack-size", "lots"}).status == 2);
  CHECK(f.bkp({"prune", "--repack-threshold", "150"}).status == 2);
  CHECK(f.bkp({"prune", "--grace", "1x"}).status == 2);
}

TEST_CASE("a prune killed at random points leaves a clean repository", "[cli][prune]") {
  PruneFixture f;
  // A killed prune leaves its lease: short, so the next round may wait it out.
  f.cli.env["BKP_PRUNE_LEASE"] = "2s";
  std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<int> delay(0, 400);
  std::string last;
  for (int round = 0; round < 4; ++round) {
    for (int i = 0; i < 6; ++i)
      f.write("src/f" + std::to_string(i), noise(400'000, 100 + round * 10 + i));
    last = f.backup();
    auto ms = delay(rng);
    auto child = f.spawn({"prune", "--keep-last", "1", "--grace", "0", "--repack-threshold", "10"});
    std::this_thread::sleep_for(milliseconds(ms));
    ::kill(child.pid(), SIGKILL);
    auto status = child.wait();
    REQUIRE(status.ok());
    INFO("round " << round << ", SIGKILL after " << ms << " ms");
    // 11: the previous round's killed prune still held its lease.
    CHECK((*status == 0 || *status == 128 + SIGKILL || *status == 11));
    f.verify_clean("after a killed prune");
  }
  std::this_thread::sleep_for(milliseconds(2100));  // the last lease expires
  // The next prune finishes the job: one snapshot, no marks left.
  auto done = f.ok_json({"prune", "--keep-last", "1", "--grace", "0"});
  (void)done;
  CHECK(f.ok_json({"prune", "--grace", "0"})["packs_marked"].empty());
  // No mark left (a write the kill interrupted may leave a ".tmp-" file,
  // which storage never lists).
  if (fs::exists(f.repo / "prune"))
    for (auto& e : fs::directory_iterator(f.repo / "prune"))
      CHECK(e.path().filename().string().find(".tmp-") != std::string::npos);
  f.verify_clean("after the finishing prune");
  std::map<std::string, std::string> expected;
  for (int i = 0; i < 6; ++i) expected["f" + std::to_string(i)] = noise(400'000, 130 + i);
  f.restores(last, expected);
}

TEST_CASE("a backup running next to prune stays restorable", "[cli][prune]") {
  PruneFixture f;
  // History to prune: old snapshots whose data is partly shared with the
  // tree the concurrent backup reads.
  for (int i = 0; i < 10; ++i) f.write("src/f" + std::to_string(i), noise(3'000'000, 200 + i));
  auto old = f.backup();
  for (int i = 0; i < 5; ++i) fs::remove(f.src / ("f" + std::to_string(i)));
  for (int i = 10; i < 20; ++i) f.write("src/f" + std::to_string(i), noise(3'000'000, 200 + i));
  f.ok_json({"forget", old});
  auto backup = f.spawn({"backup", "files", f.src.string(), "--json"});
  // Two prunes while it runs: the first marks, the second (no grace)
  // deletes what is still unused, re-checking every snapshot.
  auto p1 = f.bkp({"prune", "--grace", "1h"});
  INFO(p1.err);
  CHECK(p1.status == 0);
  auto status = backup.wait();
  REQUIRE(status.ok());
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::read(backup.stdout_fd(), buf, sizeof buf)) > 0;) out.append(buf, n);
  REQUIRE(*status == 0);
  auto snap = json::parse(out)["snapshot"].get<std::string>();
  auto p2 = f.bkp({"prune", "--grace", "0"});
  INFO(p2.err);
  CHECK(p2.status == 0);
  f.verify_clean("after prune next to a backup");
  std::map<std::string, std::string> expected;
  for (int i = 5; i < 20; ++i) expected["f" + std::to_string(i)] = noise(3'000'000, 200 + i);
  f.restores(snap, expected);
}

TEST_CASE("without keep options the retention configuration applies", "[cli][prune]") {
  PruneFixture f;
  f.write("src/a", noise(100'000, 30));
  auto s1 = f.backup();
  f.write("src/a", noise(100'000, 31));
  auto s2 = f.backup();
  f.cli.env["BKP_KEEP_LAST"] = "1";
  auto plan = f.ok_json({"prune", "--dry-run"});
  CHECK(plan["snapshots_removed"] == json::array({s1}));
  // An option replaces the whole configured policy.
  auto opt = f.ok_json({"prune", "--dry-run", "--keep-last", "2"});
  CHECK(opt["snapshots_removed"].empty());
  f.cli.env.erase("BKP_KEEP_LAST");
  f.cli.env["BACKUP_RETENTION_DAYS"] = "30";  // both are minutes apart: kept
  CHECK(f.ok_json({"prune", "--dry-run"})["snapshots_removed"].empty());
  f.cli.env["BACKUP_RETENTION_DAYS"] = "soon";
  CHECK(f.bkp({"prune", "--dry-run"}).status == 2);
  f.cli.env.erase("BACKUP_RETENTION_DAYS");
  auto none = f.ok_json({"prune", "--dry-run"});  // no policy: garbage only
  CHECK(none["snapshots_removed"].empty());
  (void)s2;
}

TEST_CASE("a backup slot backs up past marks, and prune collects after it", "[cli][prune]") {
  PruneFixture f;
  auto kf = (f.dir / "backup.key").string();
  REQUIRE(f.bkp({"keys", "add", "--role", "backup", "--new-key-file", kf, "--generate-key-file"})
              .status == 0);
  f.write("src/a", noise(2'000'000, 40));
  auto s1 = f.backup();
  f.ok_json({"forget", s1});
  REQUIRE(f.ok_json({"prune", "--grace", "1h"})["packs_marked"].size() >= 1);
  // The backup slot reads the mark and stores the marked data again.
  auto r = f.cli.run(
      {"-r", f.repo.string(), "--key-file", kf, "backup", "files", f.src.string(), "--json"});
  INFO(r.err);
  REQUIRE(r.status == 0);
  auto s2 = json::parse(r.out)["snapshot"].get<std::string>();
  // It did not reuse marked data, so no marked pack is needed again.
  auto done = f.ok_json({"prune", "--grace", "0"});
  CHECK(done["packs_kept_marked"].empty());
  CHECK(done["packs_deleted"].size() >= 1);
  f.verify_clean("after a backup slot's backup and prune");
  f.restores(s2, {{"a", noise(2'000'000, 40)}});
}
