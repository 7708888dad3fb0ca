// A repository on Azure Blob from the command line, against a real Azurite
// (tests/servers/azurite.py) that checks Shared Key and SAS signatures:
// init, backup, snapshots, restore (bit for bit), verify --read-data; a
// wrong account key, which must fail with exit 1 and a clear message within
// seconds; and credentials that are missing.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <fstream>
#include <iostream>

#include "cli_helpers.hpp"
#include "script_server.hpp"
#include "util/fs.hpp"

using bkp::test::Cli;
using bkp::test::Run;
using bkp::test::ScriptServer;
namespace fs = std::filesystem;

namespace {

// Azurite missing fails the test (ScriptServer::start); only a bkp built
// without Azure skips.
const ScriptServer* azurite() {
  static std::string why;
  static std::optional<ScriptServer> server =
      BKP_TEST_HAVE_AZURE ? ScriptServer::start("azurite.py", {"bkp-cli"}, {}, why) : std::nullopt;
  if (!server) {
    if (BKP_TEST_HAVE_AZURE) FAIL("Azure CLI tests need python3: " << why);
    std::cout << "BKP-SKIP: CLI Azure tests need an Azure-enabled bkp\n";
  }
  return server ? &*server : nullptr;
}

std::string slurp(const fs::path& p) { return *bkp::util::read_text_file(p); }

enum class Auth { shared_key, sas };

struct AzureFixture {
  Cli cli;
  fs::path dir = cli.home();
  std::string location;
  std::string pw = (dir / "pw").string();

  AzureFixture(const ScriptServer& server, const std::string& name, Auth auth) {
    location = "azure://bkp-cli/" + name;
    cli.env["BKP_TEST_FAST_KDF"] = "1";
    cli.env["AZURE_STORAGE_ACCOUNT"] = server.info()["account"];
    cli.env["BKP_AZURE_ENDPOINT"] = server.info()["endpoint"];
    if (auth == Auth::shared_key) {
      cli.env["AZURE_STORAGE_KEY"] = server.info()["key"];
    } else {
      cli.env["AZURE_STORAGE_SAS_TOKEN"] = server.info()["sas"];
    }
    write("pw", "correct horse\n");
    write("src/a.txt", "hello\n");
    std::string big(3 << 20, '\0');
    std::uint64_t x = 0x9e3779b97f4a7c15ull;
    for (auto& c : big) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      c = static_cast<char>(x);
    }
    write("src/sub/b.bin", big);
    write("src/sub/name with spaces & more.txt", "special\n");
  }
  void write(const std::string& rel, const std::string& text) {
    REQUIRE(bkp::util::make_dirs((dir / rel).parent_path()).ok());
    std::ofstream(dir / rel, std::ios::binary) << text;
  }
  Run bkp(std::vector<std::string> args) {
    std::vector<std::string> full{"-r", location, "--password-file", pw};
    full.insert(full.end(), args.begin(), args.end());
    return cli.run(full);
  }
};

void round_trip(AzureFixture& f) {
  auto init = f.bkp({"init"});
  INFO(init.err);
  REQUIRE(init.status == 0);
  // A second init finds the repository there.
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
  CHECK(slurp(restored / "a.txt") == "hello\n");
  CHECK(slurp(restored / "sub/b.bin") == slurp(f.dir / "src/sub/b.bin"));
  CHECK(slurp(restored / "sub/name with spaces & more.txt") == "special\n");

  auto verify = f.bkp({"verify", "--read-data"});
  INFO(verify.err);
  CHECK(verify.status == 0);
  CHECK(verify.err.find("no problems found") != std::string::npos);
}

}  // namespace

TEST_CASE("azure: init, backup, restore and verify against Azurite (Shared Key)", "[cli][azure]") {
  const ScriptServer* server = azurite();
  if (server == nullptr) return;
  AzureFixture f(*server, "round-trip-key", Auth::shared_key);
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
  AzureFixture f(*server, "round-trip-sas", Auth::sas);
  round_trip(f);
}

TEST_CASE("azure: a wrong account key is exit 1 with a clear message, at once", "[cli][azure]") {
  const ScriptServer* server = azurite();
  if (server == nullptr) return;
  AzureFixture f(*server, "wrong-key", Auth::shared_key);
  REQUIRE(f.bkp({"init"}).status == 0);
  const std::string wrong = "d3Jvbmcta2V5LXZhbHVlLWZvci10aGUtdGVzdA==";
  f.cli.env["AZURE_STORAGE_KEY"] = wrong;
  auto start = std::chrono::steady_clock::now();
  auto r = f.bkp({"snapshots"});
  auto elapsed = std::chrono::steady_clock::now() - start;
  INFO(r.err);
  CHECK(r.status == 1);
  CHECK(r.err.find("'config': HTTP 403 Auth") != std::string::npos);
  CHECK(r.err.find("check the account name and the account key or SAS token") != std::string::npos);
  CHECK(r.err.find(wrong) == std::string::npos);
  CHECK(elapsed < std::chrono::seconds(5));
  CHECK(f.bkp({"backup", "files", (f.dir / "src").string()}).status == 1);
  CHECK(f.bkp({"restore", "latest", "--target", (f.dir / "out").string()}).status == 1);
}

TEST_CASE("azure: missing credentials and plain http to a remote host are usage errors",
          "[cli][azure]") {
  const ScriptServer* server = azurite();
  if (server == nullptr) return;
  AzureFixture f(*server, "usage", Auth::shared_key);
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
  AzureFixture f(*server, "connection-string", Auth::shared_key);
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
  AzureFixture f(*server, "made", Auth::shared_key);
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
  auto b = f.bkp({"backup", "files", (f.dir / "src").string()});
  INFO(b.err);
  CHECK(b.status == 0);
  CHECK(f.bkp({"verify"}).status == 0);
  f.location = "azure://bkp-made-by-init/second";
  r = f.bkp({"init", "--create-bucket"});
  INFO(r.err);
  CHECK(r.status == 0);
  CHECK(r.err.find("created the container") == std::string::npos);
}
