// A repository on Azure Blob from the command line, against a real Azurite
// (tests/servers/azurite.py) that checks Shared Key and SAS signatures:
// init, backup, snapshots, restore (bit for bit), verify --read-data; a
// wrong account key, which must fail with exit 1 and a clear message within
// seconds; and credentials that are missing.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <iostream>

#include "remote_repo.hpp"
#include "script_server.hpp"

using bkp::test::RemoteRepo;
using bkp::test::ScriptServer;

namespace {

const ScriptServer* azurite() {
  return bkp::test::shared_azurite(BKP_TEST_HAVE_AZURE, "CLI Azure tests");
}

enum class Auth { shared_key, sas };

// The container bkp-cli exists (shared_azurite makes it); Azurite checks
// every request's Shared Key or SAS signature.
struct AzureRepo : RemoteRepo {
  AzureRepo(const ScriptServer& server, const std::string& name, Auth auth)
      : RemoteRepo("azure://bkp-cli/" + name) {
    cli.env["AZURE_STORAGE_ACCOUNT"] = server.info()["account"];
    cli.env["BKP_AZURE_ENDPOINT"] = server.info()["endpoint"];
    if (auth == Auth::shared_key) {
      cli.env["AZURE_STORAGE_KEY"] = server.info()["key"];
    } else {
      cli.env["AZURE_STORAGE_SAS_TOKEN"] = server.info()["sas"];
    }
  }
};

}  // namespace

TEST_CASE("azure: init, backup, restore and verify against Azurite (Shared Key)", "[cli][azure]") {
  const ScriptServer* server = azurite();
  if (server == nullptr) return;
  AzureRepo f(*server, "round-trip-key", Auth::shared_key);
  round_trip(f);
  // The catalog is a cache: rebuilt from Azure alone it sees the snapshot.
  auto rebuild = f.bkp({"catalog", "rebuild"});
  INFO(rebuild.err);
  CHECK(rebuild.status == 0);
  CHECK(f.bkp({"snapshots"}).status == 0);
}

TEST_CASE("azure: init, backup, restore and verify against Azurite (SAS token)", "[cli][azure]") {
  const ScriptServer* server = azurite();
  if (server == nullptr) return;
  AzureRepo f(*server, "round-trip-sas", Auth::sas);
  round_trip(f);
}

TEST_CASE("azure: a wrong account key is exit 1 with a clear message, at once", "[cli][azure]") {
  const ScriptServer* server = azurite();
  if (server == nullptr) return;
  AzureRepo f(*server, "wrong-key", Auth::shared_key);
  REQUIRE(f.bkp({"init"}).status == 0);
  const std::string wrong = "d3Jvbmcta2V5LXZhbHVlLWZvci10aGUtdGVzdA==";
  f.cli.env["AZURE_STORAGE_KEY"] = wrong;
  expect_refused_at_once(
      f, {"'config': HTTP 403 Auth", "check the account name and the account key or SAS token"},
      wrong);
}

TEST_CASE("azure: missing credentials and plain http to a remote host are usage errors",
          "[cli][azure]") {
  const ScriptServer* server = azurite();
  if (server == nullptr) return;
  AzureRepo f(*server, "usage", Auth::shared_key);
  f.cli.env["AZURE_STORAGE_KEY"] = "";
  f.cli.env["AZURE_STORAGE_CONNECTION_STRING"] = "";
  auto r = f.bkp({"snapshots"});
  CHECK(r.status == 2);
  CHECK(r.err.find("no Azure credentials") != std::string::npos);
  f.cli.env["AZURE_STORAGE_KEY"] = server->info()["key"];
  f.cli.env["BKP_AZURE_ENDPOINT"] = "http://blob.example.com/devstoreaccount1";
  r = f.bkp({"snapshots"});
  CHECK(r.status == 2);
  CHECK(r.err.find("plain http") != std::string::npos);
}

TEST_CASE("azure: a connection string alone opens the repository", "[cli][azure]") {
  const ScriptServer* server = azurite();
  if (server == nullptr) return;
  AzureRepo f(*server, "connection-string", Auth::shared_key);
  f.cli.env["AZURE_STORAGE_ACCOUNT"] = "";
  f.cli.env["AZURE_STORAGE_KEY"] = "";
  f.cli.env["BKP_AZURE_ENDPOINT"] = "";
  f.cli.env["AZURE_STORAGE_CONNECTION_STRING"] =
      "DefaultEndpointsProtocol=http;AccountName=" + server->info()["account"].get<std::string>() +
      ";AccountKey=" + server->info()["key"].get<std::string>() +
      ";BlobEndpoint=" + server->info()["endpoint"].get<std::string>() + ";";
  auto init = f.bkp({"init"});
  INFO(init.err);
  CHECK(init.status == 0);
  CHECK(f.bkp({"snapshots"}).status == 0);
}

TEST_CASE("azure: init on a missing container says how to create it; --create-bucket creates it",
          "[cli][azure]") {
  const ScriptServer* server = azurite();
  if (server == nullptr) return;
  AzureRepo f(*server, "made", Auth::shared_key);
  f.location = "azure://bkp-made-by-init/r";
  auto r = f.bkp({"init"});
  INFO(r.err);
  CHECK(r.status == 1);
  CHECK(r.err.find("container of 'azure://bkp-made-by-init/r' does not exist") !=
        std::string::npos);
  CHECK(r.err.find("--create-bucket") != std::string::npos);
  CHECK(f.bkp({"init"}).status == 1);

  r = f.bkp({"init", "--create-bucket"});
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(r.err.find("created the container") != std::string::npos);
  auto b = f.bkp({"backup", "files", f.source().string()});
  INFO(b.err);
  CHECK(b.status == 0);
  CHECK(f.bkp({"verify"}).status == 0);
  f.location = "azure://bkp-made-by-init/second";
  r = f.bkp({"init", "--create-bucket"});
  INFO(r.err);
  CHECK(r.status == 0);
  CHECK(r.err.find("created the container") == std::string::npos);
}
