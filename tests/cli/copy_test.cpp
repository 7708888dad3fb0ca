// bkp copy from the command line: between local repositories with different
// passphrases (and so different chunk-id keys), into S3 (moto, signatures
// checked) and Azure Blob (Azurite); a second copy writes nothing; the
// target restores bit for bit and verifies with --read-data; a copy killed
// midway leaves both repositories clean and the next one finishes.
#include <signal.h>
#include <sys/wait.h>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <thread>

#include "cli_helpers.hpp"
#include "remote_repo.hpp"
#include "script_server.hpp"
#include "util/fs.hpp"
#include "util/subprocess.hpp"

extern char** environ;

using bkp::test::Cli;
using bkp::test::noise;
using bkp::test::read;
using bkp::test::Run;
using bkp::test::ScriptServer;
namespace fs = std::filesystem;

namespace {

struct Fixture {
  Cli cli;
  fs::path dir = cli.home();
  fs::path src = dir / "src";
  std::string pw_a = (dir / "pw-a").string();
  std::string pw_b = (dir / "pw-b").string();
  std::string a = (dir / "repo-a").string();
  std::string b = (dir / "repo-b").string();

  Fixture() {
    cli.env["BKP_TEST_FAST_KDF"] = "1";
    write("pw-a", "first passphrase\n");
    write("pw-b", "second passphrase\n");
    write("src/small.txt", "hello\n");
    write("src/sub/big.bin", noise(3 << 20, 1));
    write("src/sub/empty", "");
    fs::create_symlink("small.txt", src / "link");
  }
  void write(const std::string& rel, const std::string& bytes) {
    REQUIRE(bkp::util::make_dirs((dir / rel).parent_path()).ok());
    std::ofstream(dir / rel, std::ios::binary) << bytes;
  }
  Run on(const std::string& repo, const std::string& pw, std::vector<std::string> more) {
    std::vector<std::string> full{"-r", repo, "--password-file", pw};
    full.insert(full.end(), more.begin(), more.end());
    return cli.run(full);
  }
  void init(const std::string& repo, const std::string& pw) {
    auto r = cli.run({"init", repo, "--password-file", pw});
    INFO(r.err);
    REQUIRE(r.status == 0);
  }
  std::string backup(const std::string& repo, const std::string& pw) {
    auto r = on(repo, pw, {"backup", "files", src.string(), "--json"});
    INFO(r.err);
    REQUIRE(r.status == 0);
    return nlohmann::json::parse(r.out)["snapshot"];
  }
  std::set<std::string> snapshot_ids(const std::string& repo, const std::string& pw) {
    auto r = on(repo, pw, {"snapshots", "--json"});
    INFO(r.err);
    REQUIRE(r.status == 0);
    std::set<std::string> ids;
    std::istringstream in(r.out);
    for (std::string line; std::getline(in, line);) ids.insert(nlohmann::json::parse(line)["id"]);
    return ids;
  }
  // Copies A (primary) to `to`; returns the JSON lines.
  std::vector<nlohmann::json> copy(const std::string& to, std::vector<std::string> more = {}) {
    std::vector<std::string> args{"copy", "--to", to, "--to-password-file", pw_b, "--json"};
    args.insert(args.end(), more.begin(), more.end());
    auto r = on(a, pw_a, args);
    INFO(r.err);
    REQUIRE(r.status == 0);
    std::vector<nlohmann::json> out;
    std::istringstream in(r.out);
    for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line));
    REQUIRE(!out.empty());
    CHECK(out.back()["type"] == "copy");
    return out;
  }
  void verify_read_data(const std::string& repo, const std::string& pw) {
    auto v = on(repo, pw, {"verify", "--read-data"});
    INFO(repo << ": " << v.err);
    REQUIRE(v.status == 0);
  }
  void restore_matches(const std::string& repo, const std::string& pw, const std::string& snap) {
    auto out = dir / ("out-" + snap.substr(0, 8) + "-" + std::to_string(++restores));
    auto r = on(repo, pw, {"restore", snap, "--target", out.string()});
    INFO(r.err);
    REQUIRE(r.status == 0);
    auto root = out / src.relative_path();
    CHECK(read(root / "small.txt") == read(src / "small.txt"));
    CHECK(read(root / "sub/big.bin") == read(src / "sub/big.bin"));
    CHECK(fs::file_size(root / "sub/empty") == 0);
    CHECK(fs::read_symlink(root / "link") == "small.txt");
  }
  int restores = 0;
};

// Every object under a local repository except the audit log, which each
// command appends to.
std::set<std::string> data_objects(const std::string& repo) {
  std::set<std::string> out;
  for (auto& e : fs::recursive_directory_iterator(repo)) {
    auto rel = fs::relative(e.path(), repo).string();
    if (e.is_regular_file() && rel.rfind("audit", 0) != 0) out.insert(rel);
  }
  return out;
}

const ScriptServer* moto() { return bkp::test::shared_moto(BKP_TEST_HAVE_S3, "copies to S3"); }

const ScriptServer* azurite() {
  return bkp::test::shared_azurite(BKP_TEST_HAVE_AZURE, "copies to Azure");
}

// Copies two snapshots from a local repository into `target`, then checks
// what every backend must give: the same ids, a second copy that writes
// nothing, a bit-for-bit restore and a clean verify --read-data.
void copy_round_trip(Fixture& f, const std::string& target) {
  f.init(f.a, f.pw_a);
  f.init(target, f.pw_b);
  auto first = f.backup(f.a, f.pw_a);
  f.write("src/small.txt", "hello again\n");
  auto second = f.backup(f.a, f.pw_a);

  auto plan = f.copy(target, {"--dry-run"});
  CHECK(plan.back()["would_copy"] == 2);
  CHECK(f.snapshot_ids(target, f.pw_b).empty());

  auto lines = f.copy(target);
  REQUIRE(lines.size() == 3);
  CHECK(lines[0]["id"] == first);  // oldest first
  CHECK(lines[0]["copied"] == true);
  CHECK(lines[0]["blobs_new"].get<int>() > 0);
  CHECK(lines[2]["copied"] == 2);
  CHECK(lines[2]["same_chunk_ids"] == false);
  CHECK(f.snapshot_ids(target, f.pw_b) == std::set<std::string>{first, second});

  // Nothing new: no snapshot copied, no blob written.
  auto again = f.copy(target);
  CHECK(again.back()["copied"] == 0);
  CHECK(again.back()["skipped"] == 2);
  CHECK(again.back()["blobs_read"] == 0);
  for (std::size_t i = 0; i + 1 < again.size(); ++i) CHECK(again[i]["blobs_new"] == 0);

  f.verify_read_data(target, f.pw_b);
  f.verify_read_data(f.a, f.pw_a);
  f.restore_matches(target, f.pw_b, second);
}

}  // namespace

TEST_CASE("copy: local to local with different passphrases", "[cli][copy]") {
  Fixture f;
  copy_round_trip(f, f.b);
  auto before = data_objects(f.b);
  f.copy(f.b);
  CHECK(data_objects(f.b) == before);

  // The first snapshot restores too, and the copy names where it came from.
  auto snaps = f.on(f.b, f.pw_b, {"snapshots", "--json"});
  REQUIRE(snaps.status == 0);
  std::istringstream in(snaps.out);
  std::string line;
  std::getline(in, line);
  auto snap = nlohmann::json::parse(line);
  CHECK(snap.dump().find("copied_from") != std::string::npos);

  // Back the other way into a third repository, the source's secret from
  // the environment and the target's from the primary options.
  auto c = (f.dir / "repo-c").string();
  f.init(c, f.pw_a);
  f.cli.env["BKP_FROM_PASSWORD_FILE"] = f.pw_b;
  auto r = f.on(c, f.pw_a, {"copy", "--from", f.b, "latest"});
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(f.snapshot_ids(c, f.pw_a).size() == 1);
  f.restore_matches(c, f.pw_a, "latest");
  f.verify_read_data(c, f.pw_a);
  // Only the newest was asked for; the rest follows on the next copy.
  r = f.on(c, f.pw_a, {"copy", "--from", f.b});
  REQUIRE(r.status == 0);
  CHECK(f.snapshot_ids(c, f.pw_a) == f.snapshot_ids(f.b, f.pw_b));
}

TEST_CASE("copy: a target made with --chunking-from reads only missing chunks", "[cli][copy]") {
  Fixture f;
  f.init(f.a, f.pw_a);
  f.backup(f.a, f.pw_a);
  // The target shares chunking with A; A's secret from the environment.
  f.cli.env["BKP_FROM_PASSWORD_FILE"] = f.pw_a;
  auto r = f.cli.run({"init", f.b, "--password-file", f.pw_b, "--chunking-from", f.a, "--json"});
  INFO(r.err);
  REQUIRE(r.status == 0);
  f.cli.env.erase("BKP_FROM_PASSWORD_FILE");
  auto first = f.copy(f.b);
  CHECK(first.back()["same_chunk_ids"] == true);
  CHECK(first.back()["copied"] == 1);
  const auto read_first = first.back()["blobs_read"].get<int>();
  CHECK(read_first > 0);

  // A small change: the next copy reads the new chunks and trees only.
  f.write("src/small.txt", "a small change\n");
  auto second_id = f.backup(f.a, f.pw_a);
  auto second = f.copy(f.b);
  CHECK(second.back()["copied"] == 1);
  const auto read_second = second.back()["blobs_read"].get<int>();
  // One new chunk, and the trees walked (root, src dir, sub dir...), far
  // fewer than the first copy's chunks of the 3 MiB file.
  CHECK(read_second < read_first);
  CHECK(second[1]["blobs_new"].get<int>() <= read_second);
  f.verify_read_data(f.b, f.pw_b);
  f.restore_matches(f.b, f.pw_b, second_id);

  // Trees keep their ids, so both repositories show the same root trees.
  auto trees = [&](const std::string& repo, const std::string& pw) {
    std::set<std::string> out;
    std::istringstream in(f.on(repo, pw, {"snapshots", "--json"}).out);
    for (std::string line; std::getline(in, line);) out.insert(nlohmann::json::parse(line)["tree"]);
    return out;
  };
  CHECK(trees(f.a, f.pw_a).size() == 2);
  CHECK(trees(f.a, f.pw_a) == trees(f.b, f.pw_b));
}

TEST_CASE("copy: bad arguments and wrong secrets", "[cli][copy]") {
  Fixture f;
  f.init(f.a, f.pw_a);
  f.init(f.b, f.pw_b);
  f.backup(f.a, f.pw_a);
  // No other side.
  auto r = f.on(f.a, f.pw_a, {"copy"});
  CHECK(r.status == 2);
  CHECK(r.err.find("--from and --to") != std::string::npos);
  r = f.on(f.a, f.pw_a, {"copy", "--to", f.a});
  CHECK(r.status == 2);
  // The target opened with the source's passphrase: wrong key, nothing copied.
  r = f.on(f.a, f.pw_a, {"copy", "--to", f.b});
  CHECK(r.status == 12);
  CHECK(r.err.find("repo-b") != std::string::npos);
  CHECK(f.snapshot_ids(f.b, f.pw_b).empty());
  // Two secrets for one side.
  r = f.on(f.a, f.pw_a,
           {"copy", "--to", f.b, "--to-password-file", f.pw_b, "--to-key-file", f.pw_b});
  CHECK(r.status == 2);
  // No repository there.
  r = f.on(f.a, f.pw_a,
           {"copy", "--to", (f.dir / "nothing").string(), "--to-password-file", f.pw_b});
  CHECK(r.status == 10);
  // A snapshot the source does not have.
  r = f.on(f.a, f.pw_a, {"copy", "--to", f.b, "--to-password-file", f.pw_b, "abcdef12"});
  CHECK(r.status != 0);
  CHECK(f.snapshot_ids(f.b, f.pw_b).empty());
  // The secret never appears in the audit log of either side.
  auto log = f.on(f.b, f.pw_b, {"audit", "log", "--json"});
  REQUIRE(log.status == 0);
  CHECK(log.out.find("second passphrase") == std::string::npos);
}

TEST_CASE("copy: a copy killed midway leaves both clean and the rerun completes",
          "[cli][copy][reliability]") {
  Fixture f;
  f.init(f.a, f.pw_a);
  f.init(f.b, f.pw_b);
  // Several snapshots of new data each, so a kill lands between and inside them.
  std::set<std::string> ids;
  for (int i = 0; i < 4; ++i) {
    f.write("src/sub/big.bin", noise(6 << 20, 10 + i));
    ids.insert(f.backup(f.a, f.pw_a));
  }
  auto scratch = (f.dir / "scratch").string();
  f.init(scratch, f.pw_b);
  auto t0 = std::chrono::steady_clock::now();
  auto full = f.on(f.a, f.pw_a, {"copy", "--to", scratch, "--to-password-file", f.pw_b});
  REQUIRE(full.status == 0);
  const auto duration =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
          .count();

  int killed = 0;
  for (int round = 0; round < 4; ++round) {
    bkp::util::SpawnOptions opts;
    opts.env = f.cli.env;
    opts.env.try_emplace("XDG_CONFIG_HOME", (f.dir / ".config").string());
    opts.env.try_emplace("XDG_STATE_HOME", (f.dir / ".state").string());
    opts.env.try_emplace("XDG_CACHE_HOME", (f.dir / ".cache").string());
    for (char** e = environ; *e; ++e) {
      std::string name(*e);
      name = name.substr(0, name.find('='));
      if (name.rfind("BKP_", 0) == 0 && !opts.env.count(name)) opts.unset_env.push_back(name);
    }
    opts.stdout_mode = bkp::util::SpawnOptions::Stdout::null;
    opts.stderr_mode = bkp::util::SpawnOptions::Stderr::null;
    auto child =
        bkp::util::Child::spawn({std::getenv("BKP_BINARY"), "-r", f.a, "--password-file", f.pw_a,
                                 "copy", "--to", f.b, "--to-password-file", f.pw_b},
                                opts);
    REQUIRE(child.ok());
    auto delay = std::chrono::milliseconds(duration * (round + 1) / 6);
    std::this_thread::sleep_for(delay);
    ::kill(child->pid(), SIGKILL);
    auto status = child->wait();
    REQUIRE(status.ok());
    INFO("round " << round << ", SIGKILL after " << delay.count() << " ms of " << duration);
    REQUIRE((*status == 0 || *status == 128 + SIGKILL));
    if (*status != 0) ++killed;
    auto v = f.on(f.b, f.pw_b, {"verify"});
    INFO(v.err);
    CHECK(v.status == 0);
  }
  std::cout << "copy: a full copy took " << duration << " ms; " << killed << " of 4 runs killed\n";
  CHECK(killed >= 1);
  f.verify_read_data(f.a, f.pw_a);
  auto rest = f.copy(f.b);
  CHECK(f.snapshot_ids(f.b, f.pw_b) == ids);
  f.verify_read_data(f.b, f.pw_b);
  f.restore_matches(f.b, f.pw_b, "latest");
}

TEST_CASE("copy: into S3 (moto) and back", "[cli][copy][s3]") {
  const ScriptServer* server = moto();
  if (server == nullptr) return;
  Fixture f;
  f.cli.env["AWS_ACCESS_KEY_ID"] = server->info()["access_key"];
  f.cli.env["AWS_SECRET_ACCESS_KEY"] = server->info()["secret_key"];
  f.cli.env["S3_ENDPOINT"] = server->info()["endpoint"];
  copy_round_trip(f, "s3://bkp-copy/target");
  // And out of S3 again, into a third repository.
  auto c = (f.dir / "repo-c").string();
  f.init(c, f.pw_a);
  auto r =
      f.on(c, f.pw_a, {"copy", "--from", "s3://bkp-copy/target", "--from-password-file", f.pw_b});
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(f.snapshot_ids(c, f.pw_a) == f.snapshot_ids(f.a, f.pw_a));
  f.restore_matches(c, f.pw_a, "latest");
}

TEST_CASE("copy: into Azure Blob (Azurite)", "[cli][copy][azure]") {
  const ScriptServer* server = azurite();
  if (server == nullptr) return;
  Fixture f;
  f.cli.env["AZURE_STORAGE_ACCOUNT"] = server->info()["account"];
  f.cli.env["BKP_AZURE_ENDPOINT"] = server->info()["endpoint"];
  f.cli.env["AZURE_STORAGE_KEY"] = server->info()["key"];
  copy_round_trip(f, "azure://bkp-copy/target");
}
