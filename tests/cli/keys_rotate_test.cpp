// bkp keys rotate --reencrypt [--retire KEY] through the real binary: old
// snapshots restore bit for bit afterwards, nothing in storage names a
// retired key, a run killed at random points leaves a repository that
// verifies clean and the next run finishes, a backup that started under a
// retired key writes no snapshot, and only admin slots may do it.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <thread>

#include "cli_helpers.hpp"
#include "util/fs.hpp"

using bkp::test::Cli;
using bkp::test::noise;
using bkp::test::read;
using bkp::test::Run;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

// "<name>.tmp-" and 12 characters: the local backend's file of a write in
// progress, never listed or read (lib/storage/temp_name.hpp).
bool is_temp(const fs::path& p) {
  auto name = p.filename().string();
  auto at = name.rfind(".tmp-");
  return at != std::string::npos && name.size() == at + 5 + 12;
}

bool no_objects_in(const fs::path& dir) {
  if (!fs::exists(dir)) return true;
  for (auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file() && !is_temp(e.path())) return false;
  return true;
}

struct RotateFixture {
  Cli cli;
  fs::path dir = cli.home();
  fs::path repo = dir / "repo";
  fs::path src = dir / "src";
  std::string pw = (dir / "pw").string();

  RotateFixture() {
    cli.env["BKP_TEST_FAST_KDF"] = "1";
    write("pw", "correct horse\n");
    auto r = bkp({"init"});
    INFO(r.err);
    REQUIRE(r.status == 0);
  }
  void write(const std::string& rel, const std::string& bytes) {
    REQUIRE(bkp::util::make_dirs((dir / rel).parent_path()).ok());
    std::ofstream(dir / rel, std::ios::binary) << bytes;
  }
  std::vector<std::string> args(std::vector<std::string> more) const {
    std::vector<std::string> full{"-r", repo.string(), "--password-file", pw};
    full.insert(full.end(), more.begin(), more.end());
    return full;
  }
  Run bkp(std::vector<std::string> more) const { return cli.run(args(std::move(more))); }
  json ok_json(std::vector<std::string> more) const {
    more.push_back("--json");
    auto r = bkp(more);
    INFO(r.err);
    REQUIRE(r.status == 0);
    std::istringstream in(r.out);
    json last;
    for (std::string l; std::getline(in, l);) last = json::parse(l);
    return last;
  }
  std::string backup() { return ok_json({"backup", "files", src.string()})["snapshot"]; }
  std::string current_key() const { return ok_json({"keys", "list"})["current_key"]; }
  std::vector<std::string> data_keys() const {
    std::vector<std::string> out;
    auto ring = ok_json({"keys", "list"});
    for (auto& k : ring["data_keys"]) out.push_back(k["id"]);
    return out;
  }
  std::string rotate() const { return ok_json({"keys", "rotate"})["current_key"]; }
  void verify_clean(const std::string& when) const {
    auto v = bkp({"verify", "--read-data"});
    INFO(when << ": " << v.err << v.out);
    REQUIRE(v.status == 0);
  }
  // Every envelope starts "BKP" 01 <type> <key id>: the number of places in
  // storage (packs' blobs and headers included) that name `key`.
  int envelopes_naming(const std::string& key_hex) const {
    std::string needle = "BKP\x01";
    std::string key;
    for (std::size_t i = 0; i < key_hex.size(); i += 2)
      key.push_back(static_cast<char>(std::stoi(key_hex.substr(i, 2), nullptr, 16)));
    int n = 0;
    for (auto& e : fs::recursive_directory_iterator(repo)) {
      // Not objects: a write killed midway leaves its temporary file.
      if (!e.is_regular_file() || is_temp(e.path())) continue;
      auto bytes = read(e.path());
      for (auto at = bytes.find(needle); at != std::string::npos; at = bytes.find(needle, at + 1))
        if (bytes.compare(at + 5, 8, key) == 0) ++n;
    }
    return n;
  }
  void restores(const std::string& snap, const std::map<std::string, std::string>& expected) {
    auto out = dir / ("out-" + snap.substr(0, 8) + std::to_string(::getpid()));
    fs::remove_all(out);
    auto r = bkp({"restore", snap, "--target", out.string()});
    INFO(r.err);
    REQUIRE(r.status == 0);
    for (auto& [rel, bytes] : expected) {
      INFO(rel);
      CHECK(read(out / src.relative_path() / rel) == bytes);
    }
  }
  std::map<std::string, std::uintmax_t> listing() const {
    std::map<std::string, std::uintmax_t> out;
    for (auto& e : fs::recursive_directory_iterator(repo)) {
      auto name = fs::relative(e.path(), repo).string();
      if (e.is_regular_file() && name.rfind("audit/", 0) != 0) out[name] = e.file_size();
    }
    return out;
  }
};

}  // namespace

TEST_CASE("reencrypt --retire: old snapshots restore and no object names the key",
          "[cli][keys][reencrypt]") {
  RotateFixture f;
  std::map<std::string, std::string> v1{
      {"a", noise(500'000, 1)}, {"b", noise(200'000, 2)}, {"small.txt", "hello\n"}};
  for (auto& [rel, bytes] : v1) f.write("src/" + rel, bytes);
  auto s1 = f.backup();
  REQUIRE(f.bkp({"hold", s1, "--reason", "audit"}).status == 0);
  auto old_key = f.current_key();
  auto new_key = f.rotate();
  auto v2 = v1;
  v2["c"] = noise(300'000, 3);
  v2["small.txt"] = "changed\n";
  for (auto& [rel, bytes] : v2) f.write("src/" + rel, bytes);
  auto s2 = f.backup();  // shares a and b (sealed with the old key) with s1
  REQUIRE(f.envelopes_naming(old_key) > 0);

  // The plan: what would be rewritten; nothing changes.
  auto before = f.listing();
  auto plan = f.ok_json({"keys", "rotate", "--reencrypt", "--retire", old_key, "--dry-run"});
  CHECK(plan["type"] == "reencrypt_plan");
  CHECK(plan["retiring"] == json::array({old_key}));
  CHECK(plan["rotated"] == false);
  CHECK(plan["rewrite"]["packs"]["objects"].get<int>() > 0);
  CHECK(plan["rewrite"]["snapshots"]["objects"] == 1);
  CHECK(plan["rewrite"]["holds"]["objects"] == 1);
  CHECK(plan["bytes_to_rewrite"].get<std::uint64_t>() > 700'000);
  CHECK(f.listing() == before);
  auto text = f.bkp({"keys", "rotate", "--reencrypt", "--retire", old_key, "--dry-run"});
  CHECK(text.status == 0);
  CHECK_THAT(text.out, Catch::Contains("would retire " + old_key));

  auto done = f.ok_json({"keys", "rotate", "--reencrypt", "--retire", old_key, "--grace", "0"});
  CHECK(done["type"] == "keys_reencrypted");
  CHECK(done["destroyed"] == json::array({old_key}));
  CHECK(done["waiting"].empty());
  CHECK(f.current_key() == new_key);
  CHECK(f.data_keys() == std::vector<std::string>{new_key});
  CHECK(f.envelopes_naming(old_key) == 0);
  // Only the newest keyring generation is left: the key is gone for good.
  int generations = 0;
  for (auto& e : fs::directory_iterator(f.repo / "keyring")) generations += e.is_regular_file();
  CHECK(generations == 1);
  CHECK(no_objects_in(f.repo / "retire"));

  f.verify_clean("after reencrypt");
  f.restores(s1, v1);
  f.restores(s2, v2);
  CHECK(f.bkp({"release", s1}).status == 0);  // the hold still opens
  // A second run has nothing to do.
  auto again = f.ok_json({"keys", "rotate", "--reencrypt", "--grace", "0"});
  CHECK(again["retiring"].empty());
}

TEST_CASE("reencrypt of the current key makes a new one current first", "[cli][keys][reencrypt]") {
  RotateFixture f;
  f.write("src/a", noise(400'000, 7));
  auto s1 = f.backup();
  auto old_key = f.current_key();
  auto dry = f.ok_json({"keys", "rotate", "--reencrypt", "--retire", old_key, "--dry-run"});
  CHECK(dry["rotated"] == true);
  CHECK(f.current_key() == old_key);  // a dry run rotates nothing
  auto done = f.ok_json({"keys", "rotate", "--reencrypt", "--retire", old_key, "--grace", "0"});
  CHECK(done["rotated"] == true);
  CHECK(done["destroyed"] == json::array({old_key}));
  CHECK(f.current_key() != old_key);
  CHECK(f.envelopes_naming(old_key) == 0);
  f.verify_clean("after reencrypt");
  f.restores(s1, {{"a", noise(400'000, 7)}});
}

TEST_CASE("reencrypt with a grace period waits, then finishes", "[cli][keys][reencrypt]") {
  RotateFixture f;
  f.write("src/a", noise(400'000, 8));
  auto s1 = f.backup();
  auto old_key = f.current_key();
  f.rotate();
  auto first = f.ok_json({"keys", "rotate", "--reencrypt", "--grace", "2s"});
  CHECK(first["destroyed"].empty());
  REQUIRE(first["waiting"].size() == 1);
  CHECK(f.envelopes_naming(old_key) > 0);  // the old packs, marked
  CHECK(fs::exists(f.repo / "retire" / old_key));
  f.verify_clean("while waiting");
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));
  auto second = f.ok_json({"keys", "rotate", "--reencrypt", "--grace", "2s"});
  CHECK(second["destroyed"] == json::array({old_key}));
  CHECK(f.envelopes_naming(old_key) == 0);
  f.verify_clean("after the second run");
  f.restores(s1, {{"a", noise(400'000, 8)}});
}

TEST_CASE("a reencrypt killed at random points leaves a clean repository",
          "[cli][keys][reencrypt]") {
  RotateFixture f;
  // A killed run leaves prune's lease (the packs are rewritten by prune):
  // short, and waited out before the next run.
  f.cli.env["BKP_PRUNE_LEASE"] = "1s";
  std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<int> delay(0, 500);
  std::vector<std::pair<std::string, std::map<std::string, std::string>>> snaps;
  std::vector<std::string> old_keys;
  for (int round = 0; round < 5; ++round) {
    std::map<std::string, std::string> files;
    for (int i = 0; i < 4; ++i)
      files["f" + std::to_string(i)] = noise(250'000, 300 + round * 2 + i);  // half shared
    for (auto& [rel, bytes] : files) f.write("src/" + rel, bytes);
    snaps.emplace_back(f.backup(), files);
    old_keys.push_back(f.current_key());
    f.rotate();
    auto ms = delay(rng);
    auto child = f.cli.spawn(f.args({"keys", "rotate", "--reencrypt", "--grace", "0"}));
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    ::kill(child.pid(), SIGKILL);
    auto status = child.wait();
    REQUIRE(status.ok());
    INFO("round " << round << ", SIGKILL after " << ms << " ms");
    CHECK((*status == 0 || *status == 128 + SIGKILL));
    f.verify_clean("after a killed reencrypt");
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  }
  auto done = f.ok_json({"keys", "rotate", "--reencrypt", "--grace", "0"});
  CHECK(done["waiting"].empty());
  CHECK(f.data_keys().size() == 1);
  for (auto& k : old_keys) CHECK(f.envelopes_naming(k) == 0);
  CHECK(no_objects_in(f.repo / "retire"));
  f.verify_clean("after the finishing run");
  for (auto& [id, files] : snaps) f.restores(id, files);
}

TEST_CASE("a backup that started under a retired key writes no snapshot",
          "[cli][keys][reencrypt]") {
  RotateFixture f;
  f.write("src/a", noise(300'000, 9));
  auto s1 = f.backup();
  auto old_key = f.current_key();
  // A stream backup that opens the keyring now and writes only when its
  // input ends.
  auto child = f.cli.spawn(f.args({"backup", "stdin", "--name", "late.bin"}),
                           bkp::util::SpawnOptions::Stdin::pipe);
  auto chunk = noise(100'000, 10);
  REQUIRE(::write(child.stdin_fd(), chunk.data(), chunk.size()) ==
          static_cast<ssize_t>(chunk.size()));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  auto done = f.ok_json({"keys", "rotate", "--reencrypt", "--retire", old_key, "--grace", "0"});
  REQUIRE(done["destroyed"] == json::array({old_key}));
  child.close_stdin();
  auto status = child.wait();
  REQUIRE(status.ok());
  CHECK(*status != 0);
  auto snaps = f.ok_json({"snapshots"});
  CHECK(f.bkp({"snapshots", "--json"}).out.find("late.bin") == std::string::npos);
  (void)snaps;
  // What it wrote before it noticed is unindexed garbage that prune removes.
  f.verify_clean("after the refused backup");
  REQUIRE(f.bkp({"prune", "--grace", "0"}).status == 0);
  CHECK(f.envelopes_naming(old_key) == 0);
  f.verify_clean("after prune");
  f.restores(s1, {{"a", noise(300'000, 9)}});
}

TEST_CASE("reencrypt refusals", "[cli][keys][reencrypt]") {
  RotateFixture f;
  f.write("src/a", "x");
  f.backup();
  auto restore_kf = (f.dir / "restore.key").string();
  auto backup_kf = (f.dir / "backup.key").string();
  REQUIRE(f.bkp({"keys", "add", "--role", "restore", "--new-key-file", restore_kf,
                 "--generate-key-file"})
              .status == 0);
  REQUIRE(
      f.bkp({"keys", "add", "--role", "backup", "--new-key-file", backup_kf, "--generate-key-file"})
          .status == 0);
  for (auto& kf : {restore_kf, backup_kf}) {
    auto r = f.cli.run({"-r", f.repo.string(), "--key-file", kf, "keys", "rotate", "--reencrypt",
                        "--grace", "0", "--json"});
    INFO(kf << ": " << r.err);
    CHECK(r.status == 1);
    CHECK_THAT(r.out, Catch::Contains("\"permission\""));
  }
  CHECK(f.bkp({"keys", "rotate", "--reencrypt", "--retire", "xyz"}).status == 2);
  CHECK(f.bkp({"keys", "rotate", "--retire", f.current_key()}).status == 2);
  CHECK(f.bkp({"keys", "rotate", "--dry-run"}).status == 2);
  CHECK(f.bkp({"keys", "rotate", "--reencrypt", "--rewrap"}).status == 2);
  CHECK(f.bkp({"keys", "rotate", "--reencrypt", "--grace", "soon"}).status == 2);
  auto unknown = f.bkp({"keys", "rotate", "--reencrypt", "--retire", "0123456789abcdef"});
  CHECK(unknown.status != 0);
  CHECK_THAT(unknown.err, Catch::Contains("no data key '0123456789abcdef'"));
  // The index key (backup slots hold it) cannot be retired.
  auto ring = f.ok_json({"keys", "list"});
  std::string index_key;
  for (auto& k : ring["data_keys"])
    if (k["id"] != ring["current_key"]) index_key = k["id"];
  REQUIRE(!index_key.empty());
  auto idx = f.bkp({"keys", "rotate", "--reencrypt", "--retire", index_key});
  CHECK(idx.status == 2);
  CHECK_THAT(idx.err, Catch::Contains("index key"));
}

TEST_CASE("keys.rotate_after rotates an old data key on the next admin backup",
          "[cli][keys][rotate_after]") {
  RotateFixture f;
  f.write("src/a", noise(100'000, 11));
  auto first = f.current_key();
  f.cli.env["BKP_KEYS_ROTATE_AFTER"] = "1s";
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  // A restore slot may not change keys: its backups never rotate.
  auto kf = (f.dir / "restore.key").string();
  REQUIRE(f.bkp({"keys", "add", "--role", "restore", "--new-key-file", kf, "--generate-key-file"})
              .status == 0);
  auto as_restore =
      f.cli.run({"-r", f.repo.string(), "--key-file", kf, "backup", "files", f.src.string()});
  INFO(as_restore.err);
  REQUIRE(as_restore.status == 0);
  CHECK(f.current_key() == first);

  auto r = f.bkp({"backup", "files", f.src.string()});
  INFO(r.err);
  REQUIRE(r.status == 0);
  auto second = f.current_key();
  CHECK(second != first);
  CHECK_THAT(r.err, Catch::Contains("is older than keys.rotate_after") &&
                        Catch::Contains("new data key " + second));
  CHECK(f.data_keys().size() == 2);
  // Not due again yet: no rotation.
  f.cli.env["BKP_KEYS_ROTATE_AFTER"] = "1h";
  REQUIRE(f.bkp({"backup", "files", f.src.string()}).status == 0);
  CHECK(f.current_key() == second);
  // The audit log names the new key.
  auto log = f.bkp({"audit", "log", "--json"});
  CHECK_THAT(log.out, Catch::Contains("key:" + second));
  // A bad value warns and the backup goes on.
  f.cli.env["BKP_KEYS_ROTATE_AFTER"] = "soon";
  auto bad = f.bkp({"backup", "files", f.src.string()});
  CHECK(bad.status == 0);
  CHECK_THAT(bad.err, Catch::Contains("keys.rotate_after"));
}
