#include "remote_repo.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <fstream>
#include <iostream>
#include <optional>

#include "util/fs.hpp"

namespace bkp::test {

namespace fs = std::filesystem;

// The servers start at the first call that needs one: callers differ in
// `enabled` (S3 tests and GCS HMAC tests share moto), so the first caller
// must not decide for the others.
const ScriptServer* shared_moto(bool enabled, std::string_view tests) {
  if (!enabled) {
    std::cout << "BKP-SKIP: " << tests << " need a bkp built with that backend\n";
    return nullptr;
  }
  static std::string why;
  static std::optional<ScriptServer> server =
      ScriptServer::start("moto_s3.py", {"bkp-cli", "bkp-cli-gcs", "bkp-copy", "bkp-replica"},
                          {"moto", "boto3", "werkzeug"}, why);
  if (!server) std::cout << "BKP-SKIP: " << tests << " need moto: " << why << "\n";
  return server ? &*server : nullptr;
}

const ScriptServer* shared_azurite(bool enabled, std::string_view tests) {
  if (!enabled) {
    std::cout << "BKP-SKIP: " << tests << " need an Azure-enabled bkp\n";
    return nullptr;
  }
  static std::string why;
  static std::optional<ScriptServer> server =
      ScriptServer::start("azurite.py", {"bkp-cli", "bkp-copy"}, {}, why);
  if (!server) FAIL(tests << " need Azurite (and python3): " << why);
  return &*server;
}

RemoteRepo::RemoteRepo(std::string where) : location(std::move(where)) {
  cli.env["BKP_TEST_FAST_KDF"] = "1";
  write("pw", "correct horse\n");
  write("src/a.txt", "hello\n");
  write("src/sub/b.bin", noise(3 << 20, 3));
  write("src/sub/name with spaces & more.txt", "special\n");
}

void RemoteRepo::write(const std::string& rel, const std::string& text) const {
  REQUIRE(util::make_dirs((dir / rel).parent_path()).ok());
  std::ofstream(dir / rel, std::ios::binary) << text;
}

Run RemoteRepo::bkp(std::vector<std::string> args) const {
  std::vector<std::string> full{"-r", location, "--password-file", pw};
  full.insert(full.end(), args.begin(), args.end());
  return cli.run(full);
}

std::string round_trip(const RemoteRepo& repo, const std::vector<std::string>& init_args) {
  std::vector<std::string> init_cmd{"init"};
  init_cmd.insert(init_cmd.end(), init_args.begin(), init_args.end());
  auto init = repo.bkp(init_cmd);
  INFO(init.err);
  REQUIRE(init.status == 0);
  // A second init finds the repository there.
  CHECK(repo.bkp({"init"}).status != 0);

  auto backup = repo.bkp({"backup", "files", repo.source().string(), "--json"});
  INFO(backup.err);
  REQUIRE(backup.status == 0);
  const std::string id = nlohmann::json::parse(backup.out)["snapshot"];

  auto snaps = repo.bkp({"snapshots", "--json"});
  REQUIRE(snaps.status == 0);
  CHECK(nlohmann::json::parse(snaps.out)["id"] == id);

  const fs::path out = repo.dir / "out";
  auto restore = repo.bkp({"restore", "latest", "--target", out.string(), "--verify"});
  INFO(restore.err);
  REQUIRE(restore.status == 0);
  int files = 0;
  for (auto& entry : fs::recursive_directory_iterator(repo.source())) {
    if (!entry.is_regular_file()) continue;
    INFO(entry.path());
    CHECK(read(out / entry.path().relative_path()) == read(entry.path()));
    ++files;
  }
  CHECK(files == 3);

  auto verify = repo.bkp({"verify", "--read-data"});
  INFO(verify.err);
  CHECK(verify.status == 0);
  CHECK(verify.err.find("no problems found") != std::string::npos);
  return id;
}

void expect_refused_at_once(const RemoteRepo& repo, const std::vector<std::string>& reasons,
                            const std::string& secret) {
  const auto start = std::chrono::steady_clock::now();
  auto r = repo.bkp({"snapshots"});
  const auto elapsed = std::chrono::steady_clock::now() - start;
  INFO(r.err);
  CHECK(r.status == 1);
  for (const auto& reason : reasons) CHECK(r.err.find(reason) != std::string::npos);
  CHECK(r.err.find(secret) == std::string::npos);
  CHECK(elapsed < std::chrono::seconds(5));
  CHECK(repo.bkp({"backup", "files", repo.source().string()}).status == 1);
  CHECK(repo.bkp({"restore", "latest", "--target", (repo.dir / "out").string()}).status == 1);
}

}  // namespace bkp::test
