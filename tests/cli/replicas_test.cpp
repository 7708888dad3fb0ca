// Replicas (the `replicas` setting): every backup is copied to a local and
// an S3 (moto) replica once it is complete; a replica that cannot be
// updated makes the backup exit 3 naming it; bkp verify --replicas finds
// missing snapshots (exit 13); and bkp storage usage counts the objects of
// the primary and its replicas and the growth from the catalog.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <ctime>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include "cli_helpers.hpp"
#include "remote_repo.hpp"
#include "script_server.hpp"
#include "util/fs.hpp"

using bkp::test::Cli;
using bkp::test::noise;
using bkp::test::Run;
using bkp::test::ScriptServer;
namespace fs = std::filesystem;

namespace {

const ScriptServer* moto() { return bkp::test::shared_moto(BKP_TEST_HAVE_S3, "S3 replicas"); }

std::vector<nlohmann::json> lines(const std::string& out) {
  std::vector<nlohmann::json> v;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) v.push_back(nlohmann::json::parse(line));
  return v;
}

struct Fixture {
  Cli cli;
  fs::path dir = cli.home();
  std::string pw_a = (dir / "pw-a").string(), pw_r = (dir / "pw-r").string();
  std::string primary = (dir / "primary").string();
  std::string config = (dir / "bkp.toml").string();

  Fixture() {
    cli.env["BKP_TEST_FAST_KDF"] = "1";
    write("pw-a", "primary passphrase\n");
    write("pw-r", "replica passphrase\n");
    write("src/a.txt", "hello\n");
    write("src/b.bin", noise(2 << 20, 7));
  }
  void write(const std::string& rel, const std::string& bytes) {
    REQUIRE(bkp::util::make_dirs((dir / rel).parent_path()).ok());
    std::ofstream(dir / rel, std::ios::binary) << bytes;
  }
  // `replica_extra`: more lines of the [replica] table (e.g. "prune = true").
  void configure(const std::vector<std::string>& replicas, const std::string& replica_extra = "") {
    std::string list;
    for (auto& r : replicas) list += (list.empty() ? "\"" : ", \"") + r + "\"";
    write("bkp.toml", "repository = \"" + primary + "\"\npassword_file = \"" + pw_a +
                          "\"\nreplicas = [" + list + "]\n\n[replica]\npassword_file = \"" + pw_r +
                          "\"\n" + replica_extra);
  }
  Run bkp(std::vector<std::string> args) {
    args.insert(args.begin(), {"--config", config});
    return cli.run(args);
  }
  void init(const std::string& repo, const std::string& pw) {
    auto r = cli.run({"init", repo, "--password-file", pw});
    INFO(r.err);
    REQUIRE(r.status == 0);
  }
  std::set<std::string> ids(const std::string& repo, const std::string& pw) {
    auto r = cli.run({"-r", repo, "--password-file", pw, "snapshots", "--json"});
    INFO(r.err);
    REQUIRE(r.status == 0);
    std::set<std::string> out;
    for (auto& j : lines(r.out)) out.insert(j["id"]);
    return out;
  }
};

}  // namespace

TEST_CASE("replicas: backups reach a local and an S3 replica; verify --replicas",
          "[cli][replicas][s3]") {
  const ScriptServer* server = moto();
  if (server == nullptr) return;
  Fixture f;
  f.cli.env["AWS_ACCESS_KEY_ID"] = server->info()["access_key"];
  f.cli.env["AWS_SECRET_ACCESS_KEY"] = server->info()["secret_key"];
  f.cli.env["S3_ENDPOINT"] = server->info()["endpoint"];
  std::string local = (f.dir / "replica").string();
  std::string s3 = "s3://bkp-replica/r1";
  f.init(f.primary, f.pw_a);
  // The local replica shares chunk ids with the primary (compared by tree
  // id), the S3 one does not (compared entry by entry).
  f.cli.env["BKP_FROM_PASSWORD_FILE"] = f.pw_a;
  auto made = f.cli.run({"init", local, "--password-file", f.pw_r, "--chunking-from", f.primary});
  INFO(made.err);
  REQUIRE(made.status == 0);
  f.cli.env.erase("BKP_FROM_PASSWORD_FILE");
  f.init(s3, f.pw_r);
  f.configure({local, s3});

  auto r = f.bkp({"backup", "files", (f.dir / "src").string(), "--json"});
  INFO(r.err);
  REQUIRE(r.status == 0);
  auto out = lines(r.out);
  REQUIRE(out.size() == 3);
  std::string id = out[0]["snapshot"];
  for (int i = 1; i <= 2; ++i) {
    CHECK(out[i]["type"] == "replica");
    CHECK(out[i]["ok"] == true);
    CHECK(out[i]["copied"] == 1);
  }
  CHECK(f.ids(local, f.pw_r) == std::set<std::string>{id});
  CHECK(f.ids(s3, f.pw_r) == std::set<std::string>{id});

  auto v = f.bkp({"verify", "--replicas"});
  INFO(v.err);
  CHECK(v.status == 0);

  // A replica that is not there: the backup stands, exit 3 naming it.
  std::string missing = (f.dir / "not-initialised").string();
  f.configure({local, s3, missing});
  f.write("src/a.txt", "changed\n");
  r = f.bkp({"backup", "files", (f.dir / "src").string()});
  CHECK(r.status == 3);
  CHECK(r.err.find("replica '" + missing + "' not updated") != std::string::npos);
  CHECK(f.ids(f.primary, f.pw_a).size() == 2);
  CHECK(f.ids(local, f.pw_r).size() == 2);
  CHECK(f.ids(s3, f.pw_r).size() == 2);
  v = f.bkp({"verify", "--replicas"});
  CHECK(v.status == 13);
  CHECK(v.err.find(missing) != std::string::npos);

  // A snapshot lost from one replica (not forgotten there: no forget
  // record) is a difference naming both.
  f.configure({local, s3});
  REQUIRE(fs::remove(fs::path(local) / "snapshots" / id));
  v = f.bkp({"verify", "--replicas", "--json"});
  CHECK(v.status == 13);
  CHECK(v.err.find("replica '" + local + "' lacks snapshot " + id) != std::string::npos);
  bool saw = false;
  for (auto& j : lines(v.out)) {
    if (j["type"] != "replica_check" || j["location"] != local) continue;
    saw = true;
    CHECK(j["ok"] == false);
    CHECK(j["missing"] == nlohmann::json::array({id}));
  }
  CHECK(saw);
  // The next backup brings the replica up to date again.
  r = f.bkp({"backup", "files", (f.dir / "src").string()});
  INFO(r.err);
  CHECK(r.status == 0);
  CHECK(f.bkp({"verify", "--replicas"}).status == 0);
  // Without replicas configured, --replicas is a failure, not a silent pass.
  f.configure({});
  CHECK(f.bkp({"verify", "--replicas"}).status == 13);
}

TEST_CASE("storage usage: objects and bytes per type, growth from the catalog", "[cli][storage]") {
  Fixture f;
  std::string local = (f.dir / "replica").string();
  f.init(f.primary, f.pw_a);
  f.init(local, f.pw_r);
  f.configure({local});
  std::uint64_t stored = 0;
  for (int i = 0; i < 2; ++i) {
    f.write("src/b.bin", noise(2 << 20, 20 + i));
    auto r = f.bkp({"backup", "files", (f.dir / "src").string(), "--json"});
    INFO(r.err);
    REQUIRE(r.status == 0);
    stored += lines(r.out)[0]["stats"]["stored_bytes_new"].get<std::uint64_t>();
  }
  auto r = f.bkp({"storage", "usage", "--json"});
  INFO(r.err);
  REQUIRE(r.status == 0);
  auto out = lines(r.out);
  REQUIRE(out.size() >= 3);

  // What the files on disk say, by top directory.
  std::map<std::string, std::pair<std::uint64_t, std::uint64_t>> disk;
  std::uint64_t total = 0;
  for (auto& e : fs::recursive_directory_iterator(f.primary)) {
    if (!e.is_regular_file()) continue;
    auto rel = fs::relative(e.path(), f.primary).string();
    auto top = rel.substr(0, rel.find('/'));
    std::string type = top == "data" ? "packs" : top;
    disk[type].first += 1;
    disk[type].second += e.file_size();
    total += e.file_size();
  }
  auto& p = out[0];
  CHECK(p["type"] == "storage_usage");
  CHECK(p["role"] == "repository");
  CHECK(p["backend"] == "local");
  // The storage usage command itself appends an audit entry after listing.
  for (auto& [type, c] : disk) {
    INFO(type);
    if (type == "audit") continue;
    CHECK(p["types"][type]["objects"] == c.first);
    CHECK(p["types"][type]["bytes"] == c.second);
  }
  CHECK(p["types"]["packs"]["objects"].get<int>() >= 2);
  CHECK(p["types"]["snapshots"]["objects"] == 2);
  CHECK(p["types"].contains("keys"));
  CHECK(p["types"].contains("keyring"));
  CHECK(p["types"]["config"]["objects"] == 1);
  CHECK(out[1]["role"] == "replica");
  CHECK(out[1]["types"]["snapshots"]["objects"] == 2);

  auto& g = out.back();
  CHECK(g["type"] == "storage_growth");
  char today[16];
  std::time_t now = std::time(nullptr);
  std::strftime(today, sizeof today, "%Y-%m-%d", std::gmtime(&now));
  CHECK(g["period"] == today);
  CHECK(g["backups"] == 2);
  CHECK(g["stored_bytes"] == stored);
  CHECK(g["stored_total"] == stored);

  r = f.bkp({"storage", "usage", "--by", "week", "--json"});
  REQUIRE(r.status == 0);
  CHECK(lines(r.out).back()["period"].get<std::string>().find("-W") != std::string::npos);
  // Text form, and a bad period.
  r = f.bkp({"storage", "usage"});
  REQUIRE(r.status == 0);
  CHECK(r.out.find("packs") != std::string::npos);
  CHECK(r.out.find("growth per day") != std::string::npos);
  CHECK(f.bkp({"storage", "usage", "--by", "year"}).status == 2);
  // A replica that cannot be listed: the primary's figures and exit 3.
  f.configure({local, "azure://nowhere/x"});
  r = f.bkp({"storage", "usage"});
  CHECK(r.status == 3);
  CHECK(r.out.find("packs") != std::string::npos);
}

TEST_CASE("replicas: replica.prune carries forget and prune to a local and an S3 replica",
          "[cli][replicas][prune][s3]") {
  const ScriptServer* server = moto();
  if (server == nullptr) return;
  Fixture f;
  f.cli.env["AWS_ACCESS_KEY_ID"] = server->info()["access_key"];
  f.cli.env["AWS_SECRET_ACCESS_KEY"] = server->info()["secret_key"];
  f.cli.env["S3_ENDPOINT"] = server->info()["endpoint"];
  std::string local = (f.dir / "replica").string();
  std::string s3 = "s3://bkp-replica/pruned";
  f.init(f.primary, f.pw_a);
  f.init(local, f.pw_r);
  f.init(s3, f.pw_r);
  f.configure({local, s3});
  std::vector<std::string> ids;
  auto backup = [&](int i) {
    f.write("src/a.txt", "version " + std::to_string(i) + "\n");
    auto r = f.bkp({"backup", "files", (f.dir / "src").string(), "--json"});
    INFO(r.err);
    REQUIRE(r.status == 0);
    auto out = lines(r.out);
    ids.push_back(out[0]["snapshot"]);
    return out;
  };
  for (int i = 0; i < 3; ++i) backup(i);
  auto both = [&](const std::set<std::string>& want) {
    CHECK(f.ids(local, f.pw_r) == want);
    CHECK(f.ids(s3, f.pw_r) == want);
  };
  both({ids[0], ids[1], ids[2]});

  // Without replica.prune, replicas keep what the primary forgets.
  auto r = f.bkp({"forget", ids[0].substr(0, 8)});
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(r.err.find("replica") == std::string::npos);
  both({ids[0], ids[1], ids[2]});
  backup(3);
  both({ids[0], ids[1], ids[2], ids[3]});

  // With it, a dry run prints each repository's plan and changes nothing:
  // the replicas would lose what the policy removes in the primary and
  // what the primary forgot before.
  f.configure({local, s3}, "prune = true\n");
  r = f.bkp({"prune", "--keep-last", "2", "--grace", "0", "--dry-run", "--json"});
  INFO(r.err);
  REQUIRE(r.status == 0);
  auto out = lines(r.out);
  REQUIRE(out.size() == 3);
  CHECK(out[0]["type"] == "prune");
  CHECK(out[0]["snapshots_removed"] == nlohmann::json::array({ids[1]}));
  std::set<std::string> seen;
  for (int i = 1; i <= 2; ++i) {
    CHECK(out[i]["type"] == "replica_prune");
    CHECK(out[i]["ok"] == true);
    CHECK(out[i]["dry_run"] == true);
    auto removed = out[i]["snapshots_removed"].get<std::set<std::string>>();
    CHECK(removed == std::set<std::string>{ids[0], ids[1]});
    seen.insert(out[i]["location"].get<std::string>());
  }
  CHECK(seen == std::set<std::string>{local, s3});
  r = f.bkp({"prune", "--keep-last", "2", "--grace", "0", "--dry-run"});
  CHECK(r.err.find("replica '" + s3 + "': would remove snapshot " + ids[0].substr(0, 8)) !=
        std::string::npos);
  both({ids[0], ids[1], ids[2], ids[3]});

  r = f.bkp({"prune", "--keep-last", "2", "--grace", "0"});
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(f.ids(f.primary, f.pw_a) == std::set<std::string>{ids[2], ids[3]});
  both({ids[2], ids[3]});
  CHECK(f.bkp({"verify", "--replicas"}).status == 0);
  CHECK(f.cli.run({"-r", s3, "--password-file", f.pw_r, "verify"}).status == 0);

  // forget: the same snapshots from each replica.
  r = f.bkp({"forget", ids[2].substr(0, 8), "--json"});
  INFO(r.err);
  REQUIRE(r.status == 0);
  out = lines(r.out);
  REQUIRE(out.size() == 3);
  CHECK(out[1]["type"] == "replica_forget");
  CHECK(out[1]["removed"] == nlohmann::json::array({ids[2]}));
  both({ids[3]});

  // A snapshot a replica forgot on purpose is not copied back by the next
  // backup, and verify --replicas does not count it as missing.
  r = f.cli.run({"-r", local, "--password-file", f.pw_r, "forget", ids[3].substr(0, 8)});
  INFO(r.err);
  REQUIRE(r.status == 0);
  out = backup(4);
  CHECK(out[1]["copied"] == 1);
  CHECK(f.ids(local, f.pw_r) == std::set<std::string>{ids[4]});
  CHECK(f.ids(s3, f.pw_r) == std::set<std::string>{ids[3], ids[4]});
  r = f.bkp({"verify", "--replicas", "--json"});
  INFO(r.err);
  CHECK(r.status == 0);
  for (auto& j : lines(r.out))
    if (j["type"] == "replica_check" && j["location"] == local)
      CHECK(j["forgotten"] == nlohmann::json::array({ids[3]}));
  // Named explicitly, bkp copy sends it all the same.
  r = f.bkp({"copy", ids[3].substr(0, 8), "--to", local, "--to-password-file", f.pw_r});
  INFO(r.err);
  CHECK(r.status == 0);
  CHECK(f.ids(local, f.pw_r) == std::set<std::string>{ids[3], ids[4]});

  // A replica that cannot be pruned: the primary's prune stands, exit 3.
  std::string missing = (f.dir / "not-initialised").string();
  f.configure({local, missing}, "prune = true\n");
  r = f.bkp({"prune", "--keep-last", "1", "--grace", "0"});
  CHECK(r.status == 3);
  CHECK(r.err.find("replica '" + missing + "' not pruned") != std::string::npos);
  CHECK(f.ids(f.primary, f.pw_a) == std::set<std::string>{ids[4]});
  CHECK(f.ids(local, f.pw_r) == std::set<std::string>{ids[4]});
}
