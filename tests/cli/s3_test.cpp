// A repository on S3 from the command line, against moto's S3 with SigV4
// checking on: init, backup, restore, verify; and a wrong secret, which must
// fail with exit 1 and a clear message within seconds (no retry loop).
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <iostream>
#include <set>

#include "remote_repo.hpp"
#include "script_server.hpp"
#include "util/fs.hpp"
#if BKP_TEST_HAVE_S3
#include "storage/http_client.hpp"
#endif

using bkp::test::RemoteRepo;
using bkp::test::ScriptServer;
namespace fs = std::filesystem;

namespace {

const ScriptServer* moto() { return bkp::test::shared_moto(BKP_TEST_HAVE_S3, "CLI S3 tests"); }

// The bucket bkp-cli exists (shared_moto makes it); moto checks every
// request's SigV4 signature.
struct S3Repo : RemoteRepo {
  S3Repo(const ScriptServer& server, const std::string& name) : RemoteRepo("s3://bkp-cli/" + name) {
    cli.env["AWS_ACCESS_KEY_ID"] = server.info()["access_key"];
    cli.env["AWS_SECRET_ACCESS_KEY"] = server.info()["secret_key"];
    // The endpoint by the mission's variable name; --s3-endpoint in init.
    cli.env["S3_ENDPOINT"] = server.info()["endpoint"];
  }
};

}  // namespace

TEST_CASE("s3: init, backup, restore and verify against moto", "[cli][s3]") {
  const ScriptServer* server = moto();
  if (server == nullptr) return;
  S3Repo f(*server, "round-trip");
  const std::string id = round_trip(f, {"--s3-endpoint", server->info()["endpoint"]});

  // The catalog is a cache: rebuilt from S3 alone it sees the same snapshot.
  auto rebuild = f.bkp({"catalog", "rebuild"});
  INFO(rebuild.err);
  CHECK(rebuild.status == 0);
  CHECK(nlohmann::json::parse(f.bkp({"snapshots", "--json"}).out)["id"] == id);
}

TEST_CASE("s3: a wrong secret is exit 1 with a clear message, at once", "[cli][s3]") {
  const ScriptServer* server = moto();
  if (server == nullptr) return;
  S3Repo f(*server, "wrong-secret");
  REQUIRE(f.bkp({"init"}).status == 0);
  f.cli.env["AWS_SECRET_ACCESS_KEY"] = "wrong-secret-value";
  expect_refused_at_once(
      f, {"'config': HTTP 403 SignatureDoesNotMatch", "check the access key, secret key"},
      "wrong-secret-value");
}

TEST_CASE("s3: missing credentials and plain http to a remote host are usage errors", "[cli][s3]") {
  const ScriptServer* server = moto();
  if (server == nullptr) return;
  S3Repo f(*server, "usage");
  f.cli.env.erase("AWS_ACCESS_KEY_ID");
  f.cli.env["AWS_ACCESS_KEY_ID"] = "";
  f.cli.env["AWS_SECRET_ACCESS_KEY"] = "";
  auto r = f.bkp({"snapshots"});
  CHECK(r.status == 2);
  CHECK(r.err.find("no S3 credentials") != std::string::npos);
  f.cli.env["AWS_ACCESS_KEY_ID"] = "x";
  f.cli.env["AWS_SECRET_ACCESS_KEY"] = "y";
  r = f.bkp({"--s3-endpoint", "http://s3.example.com", "snapshots"});
  CHECK(r.status == 2);
  CHECK(r.err.find("plain http") != std::string::npos);
}

TEST_CASE("s3: init on a missing bucket says how to create it; --create-bucket creates it",
          "[cli][s3]") {
  const ScriptServer* server = moto();
  if (server == nullptr) return;
  S3Repo f(*server, "made");
  f.location = "s3://bkp-made-by-init/r";
  auto r = f.bkp({"init"});
  INFO(r.err);
  CHECK(r.status == 1);
  CHECK(r.err.find("bucket of 's3://bkp-made-by-init/r' does not exist") != std::string::npos);
  CHECK(r.err.find("--create-bucket") != std::string::npos);
  // Still missing: the failed init created nothing.
  CHECK(f.bkp({"init"}).status == 1);

  r = f.bkp({"init", "--create-bucket"});
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(r.err.find("created the bucket") != std::string::npos);
  auto b = f.bkp({"backup", "files", f.source().string()});
  INFO(b.err);
  CHECK(b.status == 0);
  CHECK(f.bkp({"verify"}).status == 0);
  // Another prefix in the bucket that now exists: nothing to create.
  f.location = "s3://bkp-made-by-init/second";
  r = f.bkp({"init", "--create-bucket"});
  INFO(r.err);
  CHECK(r.status == 0);
  CHECK(r.err.find("created the bucket") == std::string::npos);

  // Outside us-east-1 the region goes in a LocationConstraint, which moto
  // (as AWS) requires.
  f.location = "s3://bkp-made-in-eu/r";
  f.cli.env["S3_REGION"] = "eu-west-1";
  r = f.bkp({"init", "--create-bucket"});
  INFO(r.err);
  CHECK(r.status == 0);
  CHECK(f.bkp({"snapshots"}).status == 0);
}

#if BKP_TEST_HAVE_S3
namespace {

// GETs of pack objects ("<prefix>/data/..") moto saw since the last call
// (its request log, tests/servers/moto_s3.py), and the log emptied; PUTs of
// packs go to `put_packs`.
std::size_t take_pack_gets(const ScriptServer& server, std::set<std::string>* put_packs = nullptr) {
  bkp::storage::http::Client client;
  bkp::storage::http::Request req;
  req.method = "DELETE";
  req.url = std::string(server.info()["endpoint"]) + "/_bkp/requests";
  auto r = client.perform(req);
  REQUIRE(r.ok());
  REQUIRE(r->status == 200);
  std::size_t gets = 0;
  for (auto& entry : nlohmann::json::parse(std::string(bkp::util::as_chars(r->body)))) {
    std::string method = entry[0], path = entry[1];
    if (path.find("/data/") == std::string::npos) continue;
    if (method == "GET") ++gets;
    if (method == "PUT" && put_packs) put_packs->insert(path);
  }
  return gets;
}

}  // namespace

TEST_CASE("s3: restore and an unchanged backup read packs in few requests", "[cli][s3]") {
  const ScriptServer* server = moto();
  if (server == nullptr) return;
  S3Repo f(*server, "requests");
  std::string endpoint = server->info()["endpoint"];
  REQUIRE(f.bkp({"init", "--s3-endpoint", endpoint}).status == 0);
  // 300 small files in 10 directories (one chunk each) and a 6 MiB file
  // (several chunks): about 7 MiB, so one data pack and one tree pack.
  std::vector<std::string> files{"src/big.bin"};
  f.write("src/big.bin", bkp::test::noise(6 << 20, 7));
  for (int d = 0; d < 10; ++d) {
    for (int i = 0; i < 30; ++i) {
      files.push_back("src/d" + std::to_string(d) + "/f" + std::to_string(i));
      f.write(files.back(), bkp::test::noise(3000, 1000 + d * 100 + i));
    }
  }
  take_pack_gets(*server);
  auto backup = f.bkp({"backup", "files", f.source().string()});
  INFO(backup.err);
  REQUIRE(backup.status == 0);
  std::set<std::string> packs;
  CHECK(take_pack_gets(*server, &packs) == 0);
  CHECK(packs.size() == 2);

  // Nothing changed: the parent's trees come from the local tree cache,
  // and no chunk is read.
  auto again = f.bkp({"backup", "files", f.source().string()});
  INFO(again.err);
  REQUIRE(again.status == 0);
  CHECK(take_pack_gets(*server) == 0);

  // Another host (no catalog, no tree cache), as after a disaster. Each
  // run of a pack's chunks comes in one request of at most 4 MiB: the data
  // pack's ~10 MiB in three, each backup's tree pack in one: five (seen
  // with the ranges logged). One more is allowed: the chunks are located
  // in batches, and a worker may claim a run before the rest of it is
  // queued. (One request per chunk and per directory was 318.)
  f.cli.env["XDG_STATE_HOME"] = (f.dir / "other-host").string();
  auto out = f.dir / "out";
  auto restore = f.bkp({"restore", "latest", "--target", out.string()});
  INFO(restore.err);
  REQUIRE(restore.status == 0);
  std::size_t gets = take_pack_gets(*server);
  CHECK(gets >= 3);
  CHECK(gets <= 6);
  for (auto& rel : files) {
    INFO(rel);
    CHECK(bkp::test::read(out / (f.dir / rel).relative_path()) == bkp::test::read(f.dir / rel));
  }
  // The trees are cached on that host now: a second restore reads data only.
  auto out2 = f.dir / "out2";
  auto second = f.bkp({"restore", "latest", "--target", out2.string()});
  REQUIRE(second.status == 0);
  CHECK(take_pack_gets(*server) <= gets - 1);
  CHECK(bkp::test::read(out2 / (f.dir / "src/big.bin").relative_path()) ==
        bkp::test::read(f.dir / "src/big.bin"));
  // The cache is beside the catalog, private, and holds sealed blobs only.
  bool any = false;
  for (auto& e : fs::recursive_directory_iterator(f.dir / "other-host")) {
    if (!e.is_regular_file() || e.path().parent_path().parent_path().filename().string().find(
                                    "-trees") == std::string::npos)
      continue;
    any = true;
    CHECK((fs::status(e.path()).permissions() & fs::perms::all) ==
          (fs::perms::owner_read | fs::perms::owner_write));
    CHECK(bkp::test::read(e.path()).find("f29") ==
          std::string::npos);  // names inside trees are sealed
  }
  CHECK(any);
}
#endif
