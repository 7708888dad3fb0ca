// A repository on Google Cloud Storage from the command line: with a
// service account key against the local double of the token endpoint and
// JSON API (which checks the JWT's signature), and with HMAC keys against
// moto's S3 (signatures checked) standing in for GCS's XML API. Neither is
// Google itself (doc/storage-gcs.md).
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <fstream>
#include <iostream>

#include "cli_helpers.hpp"
#include "gcs_double.hpp"
#include "script_server.hpp"
#include "util/fs.hpp"

using bkp::test::Cli;
using bkp::test::GcsDouble;
using bkp::test::Run;
using bkp::test::ScriptServer;
namespace fs = std::filesystem;

namespace {

const GcsDouble* gcs_double() {
  static std::string why;
  static std::unique_ptr<GcsDouble> server = BKP_TEST_HAVE_GCS ? GcsDouble::start(why) : nullptr;
  if (!server) {
    std::cout << "BKP-SKIP: CLI GCS tests need a GCS-enabled bkp and the GCS double"
              << (why.empty() ? "" : ": " + why) << "\n";
  }
  return server.get();
}

const ScriptServer* moto() {
  static std::string why;
  static std::optional<ScriptServer> server =
      BKP_TEST_HAVE_GCS
          ? ScriptServer::start("moto_s3.py", {"bkp-cli-gcs"}, {"moto", "boto3", "werkzeug"}, why)
          : std::nullopt;
  if (!server) {
    std::cout << "BKP-SKIP: CLI GCS HMAC tests need a GCS-enabled bkp and moto"
              << (why.empty() ? "" : ": " + why) << "\n";
  }
  return server ? &*server : nullptr;
}

struct GcsFixture {
  Cli cli;
  fs::path dir = cli.home();
  std::string location;
  std::string pw = (dir / "pw").string();

  explicit GcsFixture(std::string where) : location(std::move(where)) {
    cli.env["BKP_TEST_FAST_KDF"] = "1";
    write("pw", "correct horse\n");
    write("src/a.txt", "hello\n");
    write("src/sub/b.bin", bkp::test::noise(3 << 20, 7));
  }
  void write(const std::string& rel, const std::string& text) {
    REQUIRE(bkp::util::make_dirs((dir / rel).parent_path()).ok());
    std::ofstream(dir / rel) << text;
  }
  Run bkp(std::vector<std::string> args) {
    std::vector<std::string> full{"-r", location, "--password-file", pw};
    full.insert(full.end(), args.begin(), args.end());
    return cli.run(full);
  }
};

// init, backup, snapshots, restore --verify, verify --read-data.
void round_trip(GcsFixture& f) {
  auto init = f.bkp({"init"});
  INFO(init.err);
  REQUIRE(init.status == 0);
  CHECK(f.bkp({"init"}).status != 0);
  auto backup = f.bkp({"backup", "files", (f.dir / "src").string(), "--json"});
  INFO(backup.err);
  REQUIRE(backup.status == 0);
  std::string id = nlohmann::json::parse(backup.out)["snapshot"];
  auto snaps = f.bkp({"snapshots", "--json"});
  REQUIRE(snaps.status == 0);
  CHECK(nlohmann::json::parse(snaps.out)["id"] == id);
  auto out = f.dir / "out";
  auto restore = f.bkp({"restore", "latest", "--target", out.string(), "--verify"});
  INFO(restore.err);
  REQUIRE(restore.status == 0);
  auto restored = out / (f.dir / "src").relative_path();
  CHECK(bkp::test::read(restored / "a.txt") == "hello\n");
  CHECK(bkp::test::read(restored / "sub/b.bin") == bkp::test::read(f.dir / "src/sub/b.bin"));
  auto verify = f.bkp({"verify", "--read-data"});
  INFO(verify.err);
  CHECK(verify.status == 0);
  CHECK(verify.err.find("no problems found") != std::string::npos);
}

}  // namespace

TEST_CASE("gcs: init, backup, restore and verify with a service account key", "[cli][gcs]") {
  const GcsDouble* d = gcs_double();
  if (d == nullptr) return;
  GcsFixture f("gs://" + std::string(GcsDouble::bucket) + "/cli-json");
  f.cli.env["GOOGLE_APPLICATION_CREDENTIALS"] = d->key_file().string();
  f.cli.env["BKP_GCS_ENDPOINT"] = d->endpoint();
  f.cli.env["BKP_GCS_STORAGE_CLASS"] = "nearline";
  round_trip(f);
  // Packs got the storage class, the rest the bucket's default.
  int packs = 0;
  auto classes = d->stats()["classes"];
  INFO(classes.dump());
  for (const auto& entry : classes.items()) {
    const std::string name = entry.key();
    const std::string cls = entry.value().get<std::string>();
    if (name.rfind("cli-json/", 0) != 0) continue;
    INFO(name);
    bool pack = name.rfind("cli-json/data/", 0) == 0;
    packs += pack ? 1 : 0;
    CHECK(cls == (pack ? "NEARLINE" : "STANDARD"));
  }
  CHECK(packs > 0);

  // A key the token endpoint refuses: exit 1 at once, with the reason.
  f.cli.env["GOOGLE_APPLICATION_CREDENTIALS"] = d->wrong_key_file().string();
  auto start = std::chrono::steady_clock::now();
  auto r = f.bkp({"snapshots"});
  INFO(r.err);
  CHECK(r.status == 1);
  CHECK(r.err.find("invalid_grant: Invalid JWT Signature.") != std::string::npos);
  CHECK(r.err.find("PRIVATE KEY") == std::string::npos);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));

  // A storage class GCS does not have, and no credentials: usage errors.
  f.cli.env["GOOGLE_APPLICATION_CREDENTIALS"] = d->key_file().string();
  f.cli.env["BKP_GCS_STORAGE_CLASS"] = "GLACIER";
  r = f.bkp({"snapshots"});
  CHECK(r.status == 2);
  CHECK(r.err.find("gcs.storage_class") != std::string::npos);
  f.cli.env.erase("BKP_GCS_STORAGE_CLASS");
  f.cli.env["GOOGLE_APPLICATION_CREDENTIALS"] = "";
  r = f.bkp({"snapshots"});
  CHECK(r.status == 2);
  CHECK(r.err.find("no GCS credentials") != std::string::npos);
}

TEST_CASE("gcs: init, backup, restore and verify with HMAC keys (XML API)", "[cli][gcs]") {
  const ScriptServer* server = moto();
  if (server == nullptr) return;
  GcsFixture f("gs://bkp-cli-gcs/cli-hmac");
  f.cli.env["GCS_HMAC_ACCESS_KEY_ID"] = server->info()["access_key"];
  f.cli.env["GCS_HMAC_SECRET"] = server->info()["secret_key"];
  f.cli.env["BKP_GCS_ENDPOINT"] = server->info()["endpoint"];
  round_trip(f);

  // The secret is redacted in config show and never in messages.
  const std::string secret = server->info()["secret_key"];
  auto show = f.bkp({"config", "show"});
  CHECK(show.out.find(secret) == std::string::npos);
  f.cli.env["GCS_HMAC_SECRET"] = "wrong-hmac-secret";
  auto r = f.bkp({"snapshots"});
  INFO(r.err);
  CHECK(r.status == 1);
  CHECK(r.err.find("SignatureDoesNotMatch") != std::string::npos);
  CHECK(r.err.find("wrong-hmac-secret") == std::string::npos);
}
