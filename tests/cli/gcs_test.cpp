// A repository on Google Cloud Storage from the command line: with a
// service account key against the local double of the token endpoint and
// JSON API (which checks the JWT's signature), and with HMAC keys against
// moto's S3 (signatures checked) standing in for GCS's XML API. Neither is
// Google itself (doc/storage-gcs.md).
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <iostream>

#include "gcs_double.hpp"
#include "remote_repo.hpp"
#include "script_server.hpp"

using bkp::test::GcsDouble;
using bkp::test::RemoteRepo;
using bkp::test::ScriptServer;

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
  return bkp::test::shared_moto(BKP_TEST_HAVE_GCS, "CLI GCS HMAC tests");
}

}  // namespace

TEST_CASE("gcs: init, backup, restore and verify with a service account key", "[cli][gcs]") {
  const GcsDouble* d = gcs_double();
  if (d == nullptr) return;
  RemoteRepo f("gs://" + std::string(GcsDouble::bucket) + "/cli-json");
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
  expect_refused_at_once(f, {"invalid_grant: Invalid JWT Signature."}, "PRIVATE KEY");

  // A storage class GCS does not have, and no credentials: usage errors.
  f.cli.env["GOOGLE_APPLICATION_CREDENTIALS"] = d->key_file().string();
  f.cli.env["BKP_GCS_STORAGE_CLASS"] = "GLACIER";
  auto r = f.bkp({"snapshots"});
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
  RemoteRepo f("gs://bkp-cli-gcs/cli-hmac");
  f.cli.env["GCS_HMAC_ACCESS_KEY_ID"] = server->info()["access_key"];
  f.cli.env["GCS_HMAC_SECRET"] = server->info()["secret_key"];
  f.cli.env["BKP_GCS_ENDPOINT"] = server->info()["endpoint"];
  round_trip(f);

  // The secret is redacted in config show and never in messages.
  const std::string secret = server->info()["secret_key"];
  auto show = f.bkp({"config", "show"});
  CHECK(show.out.find(secret) == std::string::npos);
  f.cli.env["GCS_HMAC_SECRET"] = "wrong-hmac-secret";
  expect_refused_at_once(f, {"SignatureDoesNotMatch"}, "wrong-hmac-secret");
}
