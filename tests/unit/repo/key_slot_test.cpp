#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "helpers.hpp"
#include "repo/key_slot.hpp"

using namespace bkp;
using util::ErrorKind;

namespace {

repo::Credentials key_file_credentials(std::uint8_t fill) {
  repo::Credentials c;
  c.kind = repo::SlotKind::key_file;
  c.secret = test::test_key(fill);
  return c;
}

repo::KeySlot passphrase_slot(const util::SecretBytes& master) {
  auto slot = repo::make_slot(test::passphrase("hunter2"), master, "admin");
  REQUIRE(slot.ok());
  return std::move(slot).value();
}

}  // namespace

TEST_CASE("key slot: passphrase slot round trip through JSON") {
  auto master = test::test_key(42);
  auto slot = passphrase_slot(master);
  CHECK(slot.id.size() == 16);
  CHECK(slot.object_name() == "keys/" + slot.id);
  CHECK(slot.kdf.salt.size() == 16);
  CHECK(slot.wrapped.size() == 12 + 32 + 16);

  auto decoded = repo::KeySlot::decode(slot.encode());
  REQUIRE(decoded.ok());
  CHECK(decoded->id == slot.id);
  CHECK(decoded->role == "admin");
  CHECK(decoded->kind == repo::SlotKind::passphrase);
  CHECK(decoded->kdf.opslimit == slot.kdf.opslimit);
  CHECK(decoded->kdf.memlimit == slot.kdf.memlimit);
  CHECK(decoded->kdf.salt == slot.kdf.salt);
  CHECK(decoded->wrapped == slot.wrapped);
  CHECK(decoded->created == slot.created);

  auto unwrapped = repo::unwrap_slot(*decoded, test::passphrase("hunter2"));
  REQUIRE(unwrapped.ok());
  CHECK(util::Bytes(unwrapped->view().begin(), unwrapped->view().end()) ==
        util::Bytes(master.view().begin(), master.view().end()));

  auto json = nlohmann::json::parse(util::as_chars(slot.encode()));
  CHECK(json["version"] == 1);
  CHECK(json["kind"] == "passphrase");
  CHECK(json["kdf"]["algorithm"] == "argon2id");
}

TEST_CASE("key slot: wrong passphrase is wrong_key") {
  auto slot = passphrase_slot(test::test_key(42));
  auto r = repo::unwrap_slot(slot, test::passphrase("hunter3"));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind == ErrorKind::wrong_key);
}

TEST_CASE("key slot: credentials of another kind are wrong_key") {
  auto slot = passphrase_slot(test::test_key(42));
  auto r = repo::unwrap_slot(slot, key_file_credentials(1));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind == ErrorKind::wrong_key);
}

TEST_CASE("key slot: the wrapped key is bound to the slot id") {
  auto slot = passphrase_slot(test::test_key(42));
  slot.id = "0000000000000000";
  auto r = repo::unwrap_slot(slot, test::passphrase("hunter2"));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind == ErrorKind::wrong_key);
}

TEST_CASE("key slot: key file slot") {
  auto master = test::test_key(7);
  auto slot = repo::make_slot(key_file_credentials(1), master, "backup");
  REQUIRE(slot.ok());
  auto json = nlohmann::json::parse(util::as_chars(slot->encode()));
  CHECK(json["kind"] == "key_file");
  CHECK_FALSE(json.contains("kdf"));

  auto decoded = repo::KeySlot::decode(slot->encode());
  REQUIRE(decoded.ok());
  CHECK(decoded->kind == repo::SlotKind::key_file);
  CHECK(decoded->role == "backup");
  auto ok = repo::unwrap_slot(*decoded, key_file_credentials(1));
  REQUIRE(ok.ok());
  CHECK(ok->size() == 32);
  CHECK(ok->data()[0] == 7);

  auto wrong = repo::unwrap_slot(*decoded, key_file_credentials(2));
  REQUIRE_FALSE(wrong.ok());
  CHECK(wrong.error().kind == ErrorKind::wrong_key);

  repo::Credentials short_key;
  short_key.kind = repo::SlotKind::key_file;
  short_key.secret = util::SecretBytes(util::as_bytes("short"));
  auto bad = repo::unwrap_slot(*decoded, short_key);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().kind == ErrorKind::usage);
}

TEST_CASE("key slot: corrupted JSON is corrupt") {
  auto slot = passphrase_slot(test::test_key(42));
  auto text = std::string(util::as_chars(slot.encode()));
  auto json = nlohmann::json::parse(text);

  auto decode = [](const std::string& s) { return repo::KeySlot::decode(util::as_bytes(s)); };
  auto expect_corrupt = [&](const nlohmann::json& j) {
    auto r = decode(j.dump());
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::corrupt);
  };

  SECTION("not JSON") {
    auto r = decode(text.substr(0, text.size() / 2));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::corrupt);
  }
  SECTION("missing field") {
    auto j = json;
    j.erase("wrapped_master_key");
    expect_corrupt(j);
  }
  SECTION("wrong type") {
    auto j = json;
    j["id"] = 5;
    expect_corrupt(j);
  }
  SECTION("bad hex") {
    auto j = json;
    j["wrapped_master_key"] = "zz";
    expect_corrupt(j);
  }
  SECTION("bad salt") {
    auto j = json;
    j["kdf"]["salt"] = "xyz";
    expect_corrupt(j);
  }
  SECTION("unknown kdf") {
    auto j = json;
    j["kdf"]["algorithm"] = "scrypt";
    expect_corrupt(j);
  }
  SECTION("unknown kind") {
    auto j = json;
    j["kind"] = "yubikey";
    expect_corrupt(j);
  }
  // Found by fuzzing: nlohmann converted floats with static_cast (undefined
  // behaviour out of range, silent truncation within).
  SECTION("a float version is corrupt, however large") {
    for (double v : {1.0, 1.5, 1e300, -1e300}) {
      auto j = json;
      j["version"] = v;
      expect_corrupt(j);
    }
  }
  SECTION("a deeply nested version is corrupt") {
    auto r = decode("{\"version\": " + std::string(100000, '[') + std::string(100000, ']') + "}");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::corrupt);
  }
  SECTION("float or negative KDF limits are corrupt") {
    for (auto field : {"opslimit", "memlimit"}) {
      auto j = json;
      j["kdf"][field] = 1.31e75;
      expect_corrupt(j);
      j["kdf"][field] = -1;
      expect_corrupt(j);
    }
  }
  SECTION("newer version asks for an upgrade") {
    auto j = json;
    j["version"] = 3;
    auto r = decode(j.dump());
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::usage);
  }
  SECTION("version 2 (a writer keyring) is for backup slots only") {
    auto j = json;
    j["version"] = 2;
    auto r = decode(j.dump());
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::corrupt);
  }
  SECTION("hostile KDF limits are refused, not run") {
    auto j = json;
    j["kdf"]["memlimit"] = std::uint64_t{1} << 40;
    auto decoded = decode(j.dump());
    REQUIRE(decoded.ok());
    auto r = repo::unwrap_slot(*decoded, test::passphrase("hunter2"));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::corrupt);
  }
  SECTION("a flipped wrapped key is wrong_key") {
    auto j = json;
    std::string w = j["wrapped_master_key"];
    w[30] = w[30] == '0' ? '1' : '0';
    j["wrapped_master_key"] = w;
    auto decoded = decode(j.dump());
    REQUIRE(decoded.ok());
    auto r = repo::unwrap_slot(*decoded, test::passphrase("hunter2"));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::wrong_key);
  }
}

TEST_CASE("key file: generate, read, refuse to overwrite") {
  test::TempDir dir;
  auto path = (dir.path() / "repo.key").string();
  REQUIRE(repo::generate_key_file(path).ok());

  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);

  auto text = util::read_text_file(path);
  REQUIRE(text.ok());
  CHECK(text->size() == 11 + 64 + 1);
  CHECK(text->rfind("bkp-key-v1 ", 0) == 0);
  CHECK(text->back() == '\n');

  auto key = repo::read_key_file(path);
  REQUIRE(key.ok());
  REQUIRE(key->size() == 32);
  CHECK(util::to_hex(key->view()) == text->substr(11, 64));

  auto again = repo::generate_key_file(path);
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().kind == ErrorKind::exists);
  auto unchanged = util::read_text_file(path);
  REQUIRE(unchanged.ok());
  CHECK(*unchanged == *text);

  // Two generated keys differ.
  auto other = (dir.path() / "other.key").string();
  REQUIRE(repo::generate_key_file(other).ok());
  auto key2 = repo::read_key_file(other);
  REQUIRE(key2.ok());
  CHECK(util::to_hex(key2->view()) != util::to_hex(key->view()));
}

TEST_CASE("key file: bad files are rejected") {
  test::TempDir dir;
  auto write = [&](const std::string& name, const std::string& text) {
    auto p = dir.path() / name;
    REQUIRE(util::write_file_atomic(p, util::as_bytes(text)).ok());
    return p.string();
  };
  std::string hex64(64, 'a');
  CHECK(repo::read_key_file(write("ok", "bkp-key-v1 " + hex64 + "\n")).ok());
  CHECK(repo::read_key_file(write("no-newline", "bkp-key-v1 " + hex64)).ok());

  for (auto bad : {std::string("bkp-key-v2 ") + hex64 + "\n",
                   std::string("bkp-key-v1 ") + hex64.substr(2) + "\n",
                   std::string("bkp-key-v1 ") + std::string(64, 'g') + "\n", std::string(""),
                   std::string("bkp-key-v1 ") + hex64 + "ff\n"}) {
    auto r = repo::read_key_file(write("bad", bad));
    INFO(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::usage);
  }
  auto missing = repo::read_key_file((dir.path() / "missing").string());
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().kind == ErrorKind::usage);
}
