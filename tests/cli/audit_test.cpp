// bkp audit: every command leaves an entry with the right fields and no
// secret; tampering with the catalog rows or the stored objects is caught
// (exit 13); catalog rebuild brings the log back from the storage.
#include <sqlite3.h>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

#include "cli_helpers.hpp"
#include "util/fs.hpp"

using bkp::test::Cli;
using bkp::test::Run;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* kPassword = "s3cr3t-Passphrase-XYZ";

struct AuditFixture {
  Cli cli;
  fs::path dir = cli.home();
  std::string repo = (dir / "repo").string();

  AuditFixture() {
    cli.env["BKP_TEST_FAST_KDF"] = "1";
    cli.env["XDG_STATE_HOME"] = (dir / "state").string();
    write("pw", std::string(kPassword) + "\n");
    write("bad", "not the passphrase\n");
    write("src/a.txt", "hello\n");
    cli.env["BKP_PASSWORD_FILE"] = (dir / "pw").string();
    REQUIRE(bkp({"init"}).status == 0);
  }
  void write(const std::string& rel, const std::string& text) {
    fs::create_directories((dir / rel).parent_path());
    std::ofstream(dir / rel) << text;
  }
  Run bkp(std::vector<std::string> args) {
    args.insert(args.begin(), {"-r", repo});
    return cli.run(args);
  }
  fs::path catalog() {
    for (auto& e : fs::recursive_directory_iterator(dir / "state"))
      if (e.path().extension() == ".db") return e.path();
    FAIL("no catalog");
    return {};
  }
  void sql(const std::string& statement) {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(catalog().c_str(), &db) == SQLITE_OK);
    char* err = nullptr;
    int rc = sqlite3_exec(db, statement.c_str(), nullptr, nullptr, &err);
    INFO((err ? err : ""));
    sqlite3_free(err);
    sqlite3_close(db);
    REQUIRE(rc == SQLITE_OK);
  }
  std::vector<json> log() {
    auto r = bkp({"--json", "audit", "log"});
    REQUIRE(r.status == 0);
    std::vector<json> out;
    std::istringstream in(r.out);
    for (std::string line; std::getline(in, line);) out.push_back(json::parse(line));
    return out;
  }
  std::vector<fs::path> stored() {
    std::vector<fs::path> out;
    for (auto& e : fs::recursive_directory_iterator(dir / "repo" / "audit"))
      if (e.is_regular_file()) out.push_back(e.path());
    std::sort(out.begin(), out.end());
    return out;
  }
};

bool file_contains(const fs::path& p, const std::string& needle) {
  std::ifstream in(p, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return bytes.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("commands leave audit entries with their fields and no secret", "[audit]") {
  AuditFixture f;
  REQUIRE(f.bkp({"backup", "files", (f.dir / "src").string()}).status == 0);
  REQUIRE(f.bkp({"snapshots"}).status == 0);
  // A wrong passphrase: refused, but traced (pending, without a key).
  auto bad = f.cli.run({"-r", f.repo, "--password-file", (f.dir / "bad").string(), "snapshots"});
  CHECK(bad.status == 12);
  // A secret in a URL and in a key command is redacted.
  f.bkp({"--password-command", std::string("echo ") + kPassword, "snapshots"});

  auto entries = f.log();
  REQUIRE(entries.size() >= 4);
  CHECK(entries[0]["command"] == "init");
  auto& backup = entries[1];
  CHECK(backup["command"] == "backup");
  CHECK(backup["result"] == 0);
  CHECK(backup["snapshots"].size() == 1);
  CHECK(backup["keys"][0].get<std::string>().rfind("slot:", 0) == 0);
  CHECK(backup["uid"].is_number());
  CHECK_FALSE(backup["host"].get<std::string>().empty());
  CHECK(backup["keyed"] == true);
  bool saw_unkeyed = false;
  for (auto& e : entries) {
    if (e["keyed"] == false) {
      saw_unkeyed = true;
      CHECK(e["result"] == 12);
    }
  }
  CHECK(saw_unkeyed);
  CHECK(f.bkp({"audit", "verify"}).status == 0);

  for (auto& e : fs::recursive_directory_iterator(f.dir / "state")) {
    INFO(e.path());
    if (e.is_regular_file()) CHECK_FALSE(file_contains(e.path(), kPassword));
  }
  for (auto& p : f.stored()) CHECK_FALSE(file_contains(p, kPassword));
  auto exported = f.bkp({"audit", "export", "--format", "csv"});
  CHECK(exported.status == 0);
  CHECK(exported.out.find("<redacted>") != std::string::npos);
  CHECK(exported.out.find(kPassword) == std::string::npos);
}

TEST_CASE("init writes the first entry of the audit chain", "[audit]") {
  AuditFixture f;  // runs init, nothing else
  auto entries = f.log();
  REQUIRE(entries.size() == 1);
  auto& init = entries[0];
  CHECK(init["command"] == "init");
  CHECK(init["seq"] == 1);
  CHECK(init["result"] == 0);
  CHECK(init["keyed"] == true);
  CHECK(init["args"] == json::array({"-r", f.repo, "init"}));
  CHECK(init["keys"][0].get<std::string>().rfind("slot:", 0) == 0);
  // Mirrored at once: the stored chain starts with it too.
  REQUIRE(f.stored().size() >= 1);
  CHECK(f.stored()[0].filename() == "00000000000000000001");
  auto v = f.bkp({"--json", "audit", "verify"});
  CHECK(v.status == 0);
  CHECK(v.out.find("\"ok\":true") != std::string::npos);
}

TEST_CASE("audit verify catches an edited, reordered or removed entry", "[audit]") {
  AuditFixture f;
  for (int i = 0; i < 4; ++i) REQUIRE(f.bkp({"snapshots"}).status == 0);
  REQUIRE(f.bkp({"audit", "verify"}).status == 0);

  SECTION("edited") {
    f.sql("UPDATE audit_log SET user = 'mallory' WHERE seq = 2");
    auto r = f.bkp({"audit", "verify"});
    CHECK(r.status == 13);
    CHECK(r.err.find("00000000000000000002' fails its MAC") != std::string::npos);
  }
  SECTION("reordered") {
    f.sql(
        "UPDATE audit_log SET seq = -seq WHERE seq IN (2, 3);"
        "UPDATE audit_log SET seq = 5 - seq WHERE seq IN (-2, -3);");
    CHECK(f.bkp({"audit", "verify"}).status == 13);
  }
  SECTION("removed from the catalog") {
    f.sql("DELETE FROM audit_log WHERE seq = 2");
    auto r = f.bkp({"audit", "verify"});
    CHECK(r.status == 13);
    CHECK(r.err.find("missing") != std::string::npos);
  }
  SECTION("removed from the storage") {
    auto objects = f.stored();
    REQUIRE(objects.size() >= 4);
    fs::remove(objects[1]);
    auto r = f.bkp({"audit", "verify"});
    CHECK(r.status == 13);
    CHECK(r.err.find("missing from the storage") != std::string::npos);
  }
  SECTION("forged without the key") {
    f.sql(
        "INSERT INTO audit_log(chain, seq, time, user, uid, host, command, result, prev_mac, "
        "mac, mirrored) SELECT chain, 99, time, 'ghost', 0, host, 'restore', 0, mac, mac, 0 "
        "FROM audit_log WHERE seq = 4");
    CHECK(f.bkp({"audit", "verify"}).status == 13);
  }
}

TEST_CASE("catalog rebuild restores the audit log from the storage", "[audit]") {
  AuditFixture f;
  REQUIRE(f.bkp({"snapshots"}).status == 0);
  REQUIRE(f.bkp({"snapshots"}).status == 0);
  auto before = f.log().size();
  fs::remove_all(f.dir / "state");
  auto r = f.bkp({"catalog", "rebuild"});
  REQUIRE(r.status == 0);
  // Every entry from before (and the log command) is back, and verifies.
  CHECK(f.log().size() >= before + 1);
  CHECK(f.bkp({"audit", "verify"}).status == 0);
}

namespace {

// Removes every audit entry from `seq` on, from the catalog and the storage
// alike: what someone with write access to both, but no key, can do.
void remove_tail(AuditFixture& f, int seq) {
  f.sql("DELETE FROM audit_log WHERE seq >= " + std::to_string(seq));
  for (auto& p : f.stored())
    if (std::stoi(p.filename().string()) >= seq) fs::remove(p);
}

// Backs up the fixture's tree; returns the snapshot id.
std::string backup(AuditFixture& f) {
  auto r = f.bkp({"--json", "backup", "files", (f.dir / "src").string()});
  REQUIRE(r.status == 0);
  std::string id;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);) {
    auto j = json::parse(line);
    if (j["type"] == "backup") id = j["snapshot"];
  }
  REQUIRE_FALSE(id.empty());
  return id;
}

}  // namespace

TEST_CASE("audit verify catches the newest entries removed from catalog and storage",
          "[audit][anchor]") {
  // The audit entries each command leaves, and the anchors of snapshots.
  AuditFixture f;                             // 1 init
  backup(f);                                  // anchors 1; 2
  REQUIRE(f.bkp({"snapshots"}).status == 0);  // 3
  REQUIRE(f.bkp({"snapshots"}).status == 0);  // 4
  f.write("src/b.txt", "more\n");
  const auto second = backup(f);              // anchors 4; 5
  REQUIRE(f.bkp({"snapshots"}).status == 0);  // 6
  REQUIRE(f.stored().size() == 6);

  SECTION("untouched: every anchor holds") {
    auto r = f.bkp({"--json", "audit", "verify"});
    CHECK(r.status == 0);
    auto j = json::parse(r.out);
    CHECK(j["anchors"] == 2);
    CHECK(j["ok"] == true);
  }
  SECTION("the tail removed from both places") {
    remove_tail(f, 3);
    auto r = f.bkp({"audit", "verify"});
    CHECK(r.status == 13);
    INFO(r.err);
    CHECK(r.err.find("entries 3 to 4 are missing from both the catalog and the storage") !=
          std::string::npos);
    CHECK(r.err.find("'snapshots/" + second + "' recorded entry 4") != std::string::npos);
    // Still caught after later commands have grown the chain past the cut
    // again: the anchored entry 4 is now a different one.
    REQUIRE(f.bkp({"snapshots"}).status == 0);
    REQUIRE(f.bkp({"snapshots"}).status == 0);
    r = f.bkp({"audit", "verify"});
    CHECK(r.status == 13);
    CHECK(r.err.find("00000000000000000004' is not the entry 'snapshots/" + second) !=
          std::string::npos);
  }
  SECTION("the whole chain removed") {
    remove_tail(f, 1);
    auto r = f.bkp({"audit", "verify"});
    CHECK(r.status == 13);
    CHECK(r.err.find("entries 1 to 4 are missing") != std::string::npos);
  }
  SECTION("entries after the newest anchor are not covered") {
    remove_tail(f, 5);
    CHECK(f.bkp({"audit", "verify"}).status == 0);
  }
}

TEST_CASE("WAL entries anchor the audit chain too", "[audit][anchor]") {
  AuditFixture f;  // 1 init
  f.write("wal/000000010000000000000001", bkp::test::noise(4096, 1));
  f.write("wal/000000010000000000000002", bkp::test::noise(4096, 2));
  REQUIRE(f.bkp({"wal-push", (f.dir / "wal/000000010000000000000001").string()}).status ==
          0);                                 // anchors 1; 2
  REQUIRE(f.bkp({"snapshots"}).status == 0);  // 3
  REQUIRE(f.bkp({"wal-push", (f.dir / "wal/000000010000000000000002").string()}).status ==
          0);  // anchors 3; 4
  remove_tail(f, 2);
  auto r = f.bkp({"audit", "verify"});
  CHECK(r.status == 13);
  INFO(r.err);
  CHECK(r.err.find("entries 2 to 3 are missing") != std::string::npos);
  CHECK(r.err.find("'wal/00000001/000000010000000000000002' recorded entry 3") !=
        std::string::npos);
}
