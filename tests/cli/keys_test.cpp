// bkp keys list|add|remove|rotate and --key-command, as a user runs them:
// what each does to the repository, and every refusal's exit status.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "cli_helpers.hpp"
#include "util/fs.hpp"

using bkp::test::Cli;
using bkp::test::Run;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* kKeyHex = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

struct KeysFixture {
  Cli cli;
  fs::path dir = cli.home();
  fs::path repo = dir / "repo";
  fs::path src = dir / "src";
  std::string pw = (dir / "pw").string();

  KeysFixture() {
    cli.env["BKP_TEST_FAST_KDF"] = "1";
    write("pw", "correct horse\n");
    write("pw2", "second admin\n");
    write("src/a.txt", "hello\n");
    write("src/b.txt", std::string(100000, 'b'));
    // A key command: a script that prints a key (as a KMS client would).
    write("kms", std::string("#!/bin/sh\necho ") + kKeyHex + "\n");
    fs::permissions(dir / "kms", fs::perms::owner_all);
    write("fail", "#!/bin/sh\necho 'vault: permission denied' >&2\nexit 3\n");
    fs::permissions(dir / "fail", fs::perms::owner_all);
    REQUIRE(run({"init"}).status == 0);
  }
  void write(const std::string& rel, const std::string& text) {
    REQUIRE(bkp::util::make_dirs((dir / rel).parent_path()).ok());
    std::ofstream(dir / rel) << text;
  }
  Run run(std::vector<std::string> args) const {
    std::vector<std::string> full{"-r", repo.string(), "--password-file", pw};
    full.insert(full.end(), args.begin(), args.end());
    return cli.run(full);
  }
  Run run_as(std::vector<std::string> unlock, std::vector<std::string> args) const {
    std::vector<std::string> full{"-r", repo.string()};
    full.insert(full.end(), unlock.begin(), unlock.end());
    full.insert(full.end(), args.begin(), args.end());
    return cli.run(full);
  }
  std::vector<json> lines(const std::string& out) const {
    std::vector<json> v;
    std::istringstream in(out);
    for (std::string l; std::getline(in, l);) v.push_back(json::parse(l));
    return v;
  }
  std::vector<json> slots() const {
    auto r = run({"keys", "list", "--json"});
    INFO(r.err);
    REQUIRE(r.status == 0);
    std::vector<json> out;
    for (auto& j : lines(r.out))
      if (j["type"] == "key_slot") out.push_back(j);
    return out;
  }
  json keyring() const {
    auto r = run({"keys", "list", "--json"});
    REQUIRE(r.status == 0);
    return lines(r.out).back();
  }
  std::string added_id(const Run& r) const {
    INFO(r.err);
    REQUIRE(r.status == 0);
    auto j = json::parse(r.out);
    REQUIRE(j["type"] == "key_added");
    return j["id"];
  }
};

}  // namespace

TEST_CASE("keys list shows the init slot", "[cli][keys]") {
  KeysFixture f;
  auto s = f.slots();
  REQUIRE(s.size() == 1);
  CHECK(s[0]["role"] == "admin");
  CHECK(s[0]["kind"] == "passphrase");
  CHECK(s[0]["current"] == true);
  CHECK(s[0]["id"].get<std::string>().size() == 16);
  auto k = f.keyring();
  CHECK(k["type"] == "keyring");
  CHECK(k["generation"] == 1);
  CHECK(k["data_keys"].size() == 1);

  auto text = f.run({"keys", "list"});
  REQUIRE(text.status == 0);
  CHECK_THAT(text.out, Catch::Contains("* " + s[0]["id"].get<std::string>() + "  admin"));
  CHECK_THAT(text.err, Catch::Contains("keyring generation 1"));
}

TEST_CASE("keys add: passphrase, key file, key command", "[cli][keys]") {
  KeysFixture f;
  auto pw2 = (f.dir / "pw2").string();
  auto admin2 = f.added_id(f.run({"keys", "add", "--new-password-file", pw2, "--json"}));
  auto kf = (f.dir / "restore.key").string();
  auto restore_id = f.added_id(f.run(
      {"keys", "add", "--role", "restore", "--new-key-file", kf, "--generate-key-file", "--json"}));
  struct stat st {};
  REQUIRE(::stat(kf.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  auto kms_id =
      f.added_id(f.run({"keys", "add", "--new-key-command", (f.dir / "kms").string(), "--json"}));

  auto s = f.slots();
  REQUIRE(s.size() == 4);
  // Each new secret opens the repository, and list marks its slot.
  auto current_of = [&](std::vector<std::string> unlock) {
    auto r = f.run_as(unlock, {"keys", "list", "--json"});
    INFO(r.err);
    REQUIRE(r.status == 0);
    for (auto& j : f.lines(r.out))
      if (j["type"] == "key_slot" && j["current"] == true) return j["id"].get<std::string>();
    return std::string();
  };
  CHECK(current_of({"--password-file", pw2}) == admin2);
  CHECK(current_of({"--key-file", kf}) == restore_id);
  CHECK(current_of({"--key-command", (f.dir / "kms").string()}) == kms_id);
  // Through the environment and the configuration too.
  f.cli.env["BKP_KEY_COMMAND"] = (f.dir / "kms").string();
  CHECK(f.cli.run({"-r", f.repo.string(), "snapshots"}).status == 0);
  f.cli.env.erase("BKP_KEY_COMMAND");

  SECTION("the same secret again is refused") {
    auto r = f.run({"keys", "add", "--new-password-file", pw2});
    CHECK(r.status == 1);
    CHECK_THAT(r.err, Catch::Contains("already opens key slot '" + admin2 + "'"));
  }
  SECTION("a restore slot reads but may not change keys") {
    auto r = f.run_as({"--key-file", kf}, {"keys", "add", "--new-password-file", pw2});
    CHECK(r.status == 1);
    CHECK_THAT(r.err, Catch::Contains("role 'restore'"));
    auto rm = f.run_as({"--key-file", kf}, {"keys", "remove", admin2, "--json"});
    CHECK(rm.status == 1);
    CHECK(f.lines(rm.out).back()["kind"] == "permission");
    CHECK(f.run_as({"--key-file", kf}, {"keys", "rotate"}).status == 1);
    CHECK(f.run_as({"--key-file", kf}, {"backup", "files", f.src.string()}).status == 0);
    CHECK(f.slots().size() == 4);
  }
}

TEST_CASE("keys add refuses bad input", "[cli][keys]") {
  KeysFixture f;
  auto pw2 = (f.dir / "pw2").string();
  auto bad = [&](std::vector<std::string> args, int status, const std::string& msg) {
    auto r = f.run(args);
    INFO(r.err);
    CHECK(r.status == status);
    CHECK_THAT(r.err, Catch::Contains(msg));
  };
  bad({"keys", "add", "--role", "root", "--new-password-file", pw2}, 2, "root");
  bad({"keys", "add", "--new-password-file", pw2, "--new-key-file", "x"}, 2, "only one of");
  bad({"keys", "add", "--generate-key-file"}, 2, "needs --new-key-file");
  bad({"keys", "add", "--new-key-file", (f.dir / "missing.key").string()}, 2, "key file");
  bad({"keys", "add", "--new-key-file", pw2}, 2, "is not a bkp key");
  f.write("empty", "");
  bad({"keys", "add", "--new-password-file", (f.dir / "empty").string()}, 2, "is empty");
  // No new secret and no terminal to ask on.
  bad({"keys", "add"}, 2, "no terminal");
  bad({"keys", "add", "--new-key-command", (f.dir / "nonexistent").string()}, 2, "key command");
  bad({"keys", "add", "--new-key-command", (f.dir / "fail").string()}, 2, "exited with status 3");
  bad({"keys", "add", "--new-key-command", "/bin/echo not-a-key"}, 2, "is not a bkp key");
  bad({"keys", "add", "--new-key-command", "'unterminated"}, 2, "unterminated");
  bad({"keys", "remove"}, 2, "id");
  bad({"keys"}, 2, "");
  CHECK(f.slots().size() == 1);
}

TEST_CASE("key command as the unlock option: errors", "[cli][keys]") {
  KeysFixture f;
  auto fail = f.run_as({"--key-command", (f.dir / "fail").string()}, {"snapshots"});
  CHECK(fail.status == 2);
  CHECK_THAT(fail.err, Catch::Contains("exited with status 3"));
  CHECK_THAT(fail.err, Catch::Contains("vault: permission denied"));  // its stderr passes through
  auto missing = f.run_as({"--key-command", "/nonexistent/kms get"}, {"snapshots"});
  CHECK(missing.status == 2);
  CHECK_THAT(missing.err, Catch::Contains("cannot run '/nonexistent/kms'"));
  // A valid key that opens no slot: wrong key.
  auto wrong = f.run_as({"--key-command", (f.dir / "kms").string()}, {"snapshots"});
  CHECK(wrong.status == 12);
  // No shell: metacharacters are plain arguments.
  auto noshell =
      f.run_as({"--key-command", "/bin/echo " + std::string(kKeyHex) + ";false"}, {"snapshots"});
  CHECK(noshell.status == 2);
  CHECK_THAT(noshell.err, Catch::Contains("is not a bkp key"));
}

TEST_CASE("keys remove", "[cli][keys]") {
  KeysFixture f;
  auto first = f.slots()[0]["id"].get<std::string>();
  auto last = f.run({"keys", "remove", first});
  CHECK(last.status == 1);
  CHECK_THAT(last.err, Catch::Contains("last admin slot"));
  CHECK(f.run({"keys", "remove", "zz"}).status == 2);
  auto none = f.run({"keys", "remove", "0123456789abcdef"});
  CHECK(none.status == 1);
  CHECK_THAT(none.err, Catch::Contains("no key slot"));

  auto pw2 = (f.dir / "pw2").string();
  auto admin2 = f.added_id(f.run({"keys", "add", "--new-password-file", pw2, "--json"}));
  // The slot in use may go now that another admin exists.
  auto r = f.run({"keys", "remove", first, "--json"});
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(json::parse(r.out)["id"] == first);
  CHECK(f.run({"snapshots"}).status == 12);  // the old passphrase stopped working
  auto again = f.run_as({"--password-file", pw2}, {"keys", "remove", admin2});
  CHECK(again.status == 1);
}

TEST_CASE("keys rotate: new objects use the new key, old snapshots restore", "[cli][keys]") {
  KeysFixture f;
  auto b1 = f.run({"backup", "files", f.src.string(), "--json"});
  REQUIRE(b1.status == 0);
  auto snap1 = json::parse(b1.out)["snapshot"].get<std::string>();
  auto old_key = f.keyring()["current_key"].get<std::string>();

  auto r = f.run({"keys", "rotate", "--json"});
  INFO(r.err);
  REQUIRE(r.status == 0);
  auto rot = json::parse(r.out);
  CHECK(rot["generation"] == 2);
  auto new_key = rot["current_key"].get<std::string>();
  CHECK(new_key != old_key);
  CHECK(f.keyring()["data_keys"].size() == 2);
  CHECK(f.keyring()["current_key"] == new_key);

  f.write("src/c.txt", "after the rotation\n");
  auto b2 = f.run({"backup", "files", f.src.string(), "--json"});
  REQUIRE(b2.status == 0);
  auto snap2 = json::parse(b2.out)["snapshot"].get<std::string>();
  // The envelopes in storage name the key that sealed them (bytes 5..12).
  auto key_of = [&](const fs::path& p) {
    auto bytes = bkp::util::read_file(p);
    REQUIRE(bytes.ok());
    REQUIRE(bytes->size() > 13);
    return bkp::util::to_hex(bkp::util::ByteView(*bytes).subspan(5, 8));
  };
  CHECK(key_of(f.repo / "snapshots" / snap1) == old_key);
  CHECK(key_of(f.repo / "snapshots" / snap2) == new_key);

  for (auto& snap : {snap1, snap2}) {
    auto target = f.dir / ("out-" + snap.substr(0, 8));
    auto rs = f.run({"restore", snap, "-t", target.string()});
    INFO(rs.err);
    CHECK(rs.status == 0);
  }
  auto restored = bkp::util::read_text_file(f.dir / ("out-" + snap1.substr(0, 8)) /
                                            fs::relative(f.src, "/") / "b.txt");
  REQUIRE(restored.ok());
  CHECK(*restored == std::string(100000, 'b'));
  CHECK(f.run({"verify", "--read-data"}).status == 0);
  CHECK(f.run({"keys", "rotate", "--new-password-file", f.pw}).status == 2);
}

TEST_CASE("keys rotate --rewrap: the old secret stops working", "[cli][keys]") {
  KeysFixture f;
  auto b1 = f.run({"backup", "files", f.src.string(), "--json"});
  REQUIRE(b1.status == 0);
  auto snap1 = json::parse(b1.out)["snapshot"].get<std::string>();
  auto kf = (f.dir / "r.key").string();
  f.added_id(f.run(
      {"keys", "add", "--role", "restore", "--new-key-file", kf, "--generate-key-file", "--json"}));
  auto pw2 = (f.dir / "pw2").string();
  auto r = f.run({"keys", "rotate", "--rewrap", "--new-password-file", pw2, "--json"});
  INFO(r.err);
  REQUIRE(r.status == 0);
  auto rot = json::parse(r.out);
  CHECK(rot["removed_slots"].size() == 2);
  CHECK(f.run({"snapshots"}).status == 12);
  CHECK(f.run_as({"--key-file", kf}, {"snapshots"}).status == 12);
  auto rs = f.run_as({"--password-file", pw2}, {"restore", snap1, "-t", (f.dir / "out").string()});
  INFO(rs.err);
  CHECK(rs.status == 0);
  CHECK(f.run_as({"--password-file", pw2}, {"verify", "--read-data"}).status == 0);
  CHECK(f.run({"keys", "rotate", "--rewrap", "--generate-key-file"}).status == 12);
}

TEST_CASE("a backup-only host writes snapshots it cannot read", "[cli][keys]") {
  KeysFixture f;
  auto kf = (f.dir / "backup.key").string();
  auto id = f.added_id(f.run(
      {"keys", "add", "--role", "backup", "--new-key-file", kf, "--generate-key-file", "--json"}));
  CHECK(f.slots().size() == 2);
  std::vector<std::string> as_backup{"--key-file", kf};

  auto b1 = f.run_as(as_backup, {"backup", "files", f.src.string(), "--json"});
  INFO(b1.err);
  REQUIRE(b1.status == 0);
  auto snap1 = json::parse(b1.out)["snapshot"].get<std::string>();
  // An incremental cannot read its parent: it reads every file again, and
  // deduplication stores nothing new.
  auto b2 =
      f.run_as(as_backup, {"backup", "files", f.src.string(), "--type", "incremental", "--json"});
  INFO(b2.err);
  REQUIRE(b2.status == 0);
  auto j2 = json::parse(b2.out);
  auto snap2 = j2["snapshot"].get<std::string>();
  CHECK(j2.dump().find("\"blobs_new\":0") == std::string::npos);  // the new tree only
  CHECK(fs::exists(f.repo / "sessions"));

  // Nothing reads back with the backup key: restore, ls, verify (exit 1,
  // kind permission).
  for (auto args :
       std::vector<std::vector<std::string>>{{"restore", snap1, "-t", (f.dir / "nope").string()},
                                             {"ls", snap1},
                                             {"verify"},
                                             {"verify", "--read-data"},
                                             {"diff", snap1, snap2},
                                             {"keys", "rotate"},
                                             {"keys", "remove", id}}) {
    auto r = f.run_as(as_backup, args);
    INFO(args[0] << " " << r.err);
    CHECK(r.status == 1);
    CHECK_THAT(r.err, Catch::Contains("role 'backup'"));
  }
  CHECK_FALSE(fs::exists(f.dir / "nope" / fs::relative(f.src, "/") / "a.txt"));

  // The admin restores both, bit for bit, and the repository verifies.
  for (auto& snap : {snap1, snap2}) {
    auto target = f.dir / ("out-" + snap.substr(0, 8));
    auto rs = f.run({"restore", snap, "-t", target.string(), "--verify"});
    INFO(rs.err);
    REQUIRE(rs.status == 0);
    auto b = bkp::util::read_text_file(target / fs::relative(f.src, "/") / "b.txt");
    REQUIRE(b.ok());
    CHECK(*b == std::string(100000, 'b'));
    auto a = bkp::util::read_text_file(target / fs::relative(f.src, "/") / "a.txt");
    REQUIRE(a.ok());
    CHECK(*a == "hello\n");
  }
  auto v = f.run({"verify", "--read-data"});
  INFO(v.err);
  CHECK(v.status == 0);
  // The backup slot survives a rewrap: it holds no master key.
  auto pw2 = (f.dir / "pw2").string();
  REQUIRE(f.run({"keys", "rotate", "--rewrap", "--new-password-file", pw2}).status == 0);
  CHECK(f.run_as(as_backup, {"backup", "files", f.src.string()}).status == 0);
  auto ls = f.run_as({"--password-file", pw2}, {"snapshots", "--json"});
  REQUIRE(ls.status == 0);
  CHECK(f.lines(ls.out).size() == 3);
}
