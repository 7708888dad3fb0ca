// Repository::init and Repository::open: what is written, and every reason
// to refuse.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <set>

#include "helpers.hpp"

using namespace bkp;
using util::ErrorKind;
namespace fs = std::filesystem;

namespace {

std::set<std::string> object_names(const fs::path& root) {
  std::set<std::string> out;
  for (auto& e : fs::recursive_directory_iterator(root)) {
    if (e.is_regular_file()) out.insert(fs::relative(e.path(), root).string());
  }
  return out;
}

void rewrite(const fs::path& file, const std::string& text) {
  REQUIRE(util::write_file_atomic(file, util::as_bytes(text)).ok());
}

}  // namespace

TEST_CASE("repository: init writes config, one key slot and the first keyring") {
  test::RepoFixture f;
  CHECK(f.repo_id.size() == 64);
  auto names = object_names(f.store());
  REQUIRE(names.size() == 3);
  CHECK(names.count("config"));
  CHECK(names.count("keyring/0000000000000001"));
  auto slot = std::find_if(names.begin(), names.end(),
                           [](const std::string& n) { return n.rfind("keys/", 0) == 0; });
  REQUIRE(slot != names.end());
  CHECK(slot->size() == 5 + 16);

  auto config_text = util::read_text_file(f.store() / "config");
  REQUIRE(config_text.ok());
  auto j = nlohmann::json::parse(*config_text);
  CHECK(j["format"] == "bkp-repository");
  CHECK(j["version"] == 2);
  CHECK(j["id"] == f.repo_id);
  CHECK(j["chunker"]["algorithm"] == "fastcdc");
  CHECK(j["chunker"]["avg_size"] == 4096);
  CHECK(j["compression"] == "zstd");
  CHECK(j["pack_size"] == 64 * 1024);

  // The keyring is an envelope of type keyring under the all-zero key id.
  auto keyring = util::read_file(f.store() / "keyring/0000000000000001");
  REQUIRE(keyring.ok());
  auto h = repo::peek_envelope(*keyring);
  REQUIRE(h.ok());
  CHECK(h->type == repo::ObjectType::keyring);
  CHECK(h->key_id == repo::KeyId{});
}

TEST_CASE("repository: open") {
  test::RepoFixture f;
  auto r = f.open();
  CHECK(r->config().id == f.repo_id);
  CHECK(r->config().version == 2);
  CHECK(r->config().chunker.min_size == 1024);
  CHECK(r->config().pack_size == 64 * 1024);
  CHECK(r->slot().kind == repo::SlotKind::passphrase);
  CHECK(r->slot().role == "admin");
  CHECK(r->keyring().generation == 1);
  CHECK(r->catalog_path() == f.catalog());
  CHECK(fs::exists(f.catalog()));
  CHECK(std::string(r->backend().kind()) == "local");
  auto meta = r->catalog().get_meta("repository_id");
  REQUIRE(meta.ok());
  CHECK(*meta == f.repo_id);

  // A new repository is format 2: blob ids are HMAC-SHA-256 under the
  // keyring's chunk id key.
  CHECK(r->config().version == 2);
  CHECK(r->config().blob_id == crypto::BlobIdAlgorithm::hmac_sha256);
  auto data = util::as_bytes("some content");
  auto expected = crypto::hmac_sha256(r->keyring().chunk_id_key.view(), data);
  CHECK(util::to_hex(r->blob_id(data)) == util::to_hex(expected));
}

TEST_CASE("repository: ids are keyed per repository") {
  test::RepoFixture a, b;
  auto data = util::as_bytes("same content");
  CHECK(a.open()->blob_id(data) != b.open()->blob_id(data));
  CHECK(a.repo_id != b.repo_id);
}

TEST_CASE("repository: init refuses a repository or anything else") {
  test::RepoFixture f;
  storage::LocalBackend backend(f.store());
  auto again = repo::Repository::init(backend, test::passphrase("x"), {});
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().kind == ErrorKind::exists);
  CHECK(object_names(f.store()).size() == 3);

  test::TempDir other;
  rewrite(other.path() / "notes.txt", "mine");
  storage::LocalBackend occupied(other.path());
  auto r = repo::Repository::init(occupied, test::passphrase("x"), {});
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind == ErrorKind::exists);
  CHECK_THAT(r.error().message, Catch::Contains("not empty"));
  CHECK(object_names(other.path()) == std::set<std::string>{"notes.txt"});
}

TEST_CASE("repository: init into a directory that does not exist yet") {
  test::TempDir dir;
  storage::LocalBackend backend(dir.path() / "new" / "repo");
  auto id = repo::Repository::init(backend, test::passphrase("x"), {});
  REQUIRE(id.ok());
  CHECK(fs::exists(dir.path() / "new" / "repo" / "config"));
}

TEST_CASE("repository: init rejects bad options") {
  test::TempDir dir;
  storage::LocalBackend backend(dir.path());
  repo::InitOptions bad_chunker;
  bad_chunker.chunker = {4096, 3000, 16384};  // avg below min, not a power of two
  auto r = repo::Repository::init(backend, test::passphrase("x"), bad_chunker);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind == ErrorKind::usage);

  repo::InitOptions zero_pack;
  zero_pack.pack_size = 0;
  auto z = repo::Repository::init(backend, test::passphrase("x"), zero_pack);
  REQUIRE_FALSE(z.ok());
  CHECK(z.error().kind == ErrorKind::usage);
  CHECK(object_names(dir.path()).empty());
}

TEST_CASE("repository: wrong passphrase is wrong_key") {
  test::RepoFixture f;
  auto r = f.try_open("not the passphrase");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind == ErrorKind::wrong_key);
  CHECK_FALSE(fs::exists(f.catalog()));
}

TEST_CASE("repository: a key file does not open a passphrase repository") {
  test::RepoFixture f;
  repo::Credentials c;
  c.kind = repo::SlotKind::key_file;
  c.secret = test::test_key(1);
  auto r =
      repo::Repository::open(std::make_unique<storage::LocalBackend>(f.store()), c, f.catalog());
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind == ErrorKind::wrong_key);
}

TEST_CASE("repository: key file repository") {
  test::TempDir dir;
  auto key_path = (dir.path() / "k").string();
  REQUIRE(repo::generate_key_file(key_path).ok());
  repo::Credentials c;
  c.kind = repo::SlotKind::key_file;
  auto key = repo::read_key_file(key_path);
  REQUIRE(key.ok());
  c.secret = *key;
  storage::LocalBackend backend(dir.path() / "store");
  REQUIRE(repo::Repository::init(backend, c, {}).ok());
  auto r = repo::Repository::open(std::make_unique<storage::LocalBackend>(dir.path() / "store"), c,
                                  dir.path() / "cat.db");
  REQUIRE(r.ok());
  CHECK((*r)->slot().kind == repo::SlotKind::key_file);

  auto pw = repo::Repository::open(std::make_unique<storage::LocalBackend>(dir.path() / "store"),
                                   test::passphrase("x"), dir.path() / "cat.db");
  REQUIRE_FALSE(pw.ok());
  CHECK(pw.error().kind == ErrorKind::wrong_key);
}

TEST_CASE("repository: no repository") {
  test::TempDir dir;
  for (auto path : {dir.path(), dir.path() / "missing"}) {
    auto r = repo::Repository::open(std::make_unique<storage::LocalBackend>(path),
                                    test::passphrase("x"), dir.path() / "cat.db");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::no_repository);
  }
  rewrite(dir.path() / "config", "{\"format\": \"something-else\"}");
  auto r = repo::Repository::open(std::make_unique<storage::LocalBackend>(dir.path()),
                                  test::passphrase("x"), dir.path() / "cat.db");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind == ErrorKind::no_repository);
}

TEST_CASE("repository: a tampered config is detected") {
  test::RepoFixture f;
  auto text = *util::read_text_file(f.store() / "config");
  auto j = nlohmann::json::parse(text);

  SECTION("valid JSON, another value") {
    j["compression"] = "none";
    rewrite(f.store() / "config", j.dump(2) + "\n");
    auto r = f.try_open();
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::verification);
  }
  SECTION("same values, other bytes") {
    rewrite(f.store() / "config", text + "\n");
    auto r = f.try_open();
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::verification);
  }
  SECTION("a future format version asks for an upgrade") {
    j["version"] = repo::kFormatVersion + 1;
    rewrite(f.store() / "config", j.dump(2) + "\n");
    auto r = f.try_open();
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::usage);
  }
  SECTION("an older, impossible version") {
    j["version"] = 0;
    rewrite(f.store() / "config", j.dump(2) + "\n");
    auto r = f.try_open();
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::no_repository);
  }
  SECTION("not JSON") {
    rewrite(f.store() / "config", text.substr(0, 20));
    auto r = f.try_open();
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::no_repository);
  }
  SECTION("unknown compression") {
    j["compression"] = "brotli";
    rewrite(f.store() / "config", j.dump(2) + "\n");
    CHECK_FALSE(f.try_open().ok());
  }
  SECTION("unknown chunker") {
    j["chunker"]["algorithm"] = "rabin";
    rewrite(f.store() / "config", j.dump(2) + "\n");
    auto r = f.try_open();
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::corrupt);
  }
}

TEST_CASE("repository: keyring problems") {
  test::RepoFixture f;
  auto keyring = f.store() / "keyring/0000000000000001";

  SECTION("missing") {
    fs::remove(keyring);
    auto r = f.try_open();
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::verification);
  }
  SECTION("flipped byte") {
    test::flip_byte(keyring, 40);
    auto r = f.try_open();
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::verification);
  }
  SECTION("authentic, but sealed under another generation's name") {
    auto slot_path = test::only_file_under(f.store() / "keys");
    auto slot = repo::KeySlot::decode(*util::read_file(slot_path));
    REQUIRE(slot.ok());
    auto master = repo::unwrap_slot(*slot, test::passphrase(test::RepoFixture::kPass));
    REQUIRE(master.ok());
    auto name = std::string("keyring/0000000000000001");
    auto plain = repo::open_object(repo::ObjectType::keyring, *master, *util::read_file(keyring),
                                   util::as_bytes(name));
    REQUIRE(plain.ok());
    auto newer = std::string("keyring/0000000000000002");
    auto resealed = repo::seal_object(repo::ObjectType::keyring, repo::KeyId{}, *master, *plain,
                                      util::as_bytes(newer));
    REQUIRE(util::write_file_atomic(f.store() / newer, resealed).ok());
    auto r = f.try_open();
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::verification);
    CHECK_THAT(r.error().message, Catch::Contains("generation 1"));
  }
  SECTION("renamed to a newer generation") {
    fs::rename(keyring, f.store() / "keyring/0000000000000002");
    auto r = f.try_open();
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::verification);
  }
}

TEST_CASE("repository: a damaged key slot does not hide a good one") {
  test::RepoFixture f;
  rewrite(f.store() / "keys/00000000000000aa", "not json");
  auto r = f.try_open();
  REQUIRE(r.ok());
}

TEST_CASE("repository: a catalog belongs to one repository") {
  test::RepoFixture a, b;
  a.open();
  auto r = repo::Repository::open(std::make_unique<storage::LocalBackend>(b.store()),
                                  test::passphrase(test::RepoFixture::kPass), a.catalog());
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind == ErrorKind::usage);
}

TEST_CASE("repository: default catalog path") {
  const char* old = std::getenv("XDG_STATE_HOME");
  std::string saved = old ? old : "";
  ::setenv("XDG_STATE_HOME", "/tmp/state-test", 1);
  CHECK(repo::default_catalog_path("abc") == fs::path("/tmp/state-test/bkp/abc.db"));
  ::unsetenv("XDG_STATE_HOME");
  auto p = repo::default_catalog_path("abc");
  CHECK(p.filename() == "abc.db");
  CHECK(p.parent_path().filename() == "bkp");
  if (old) ::setenv("XDG_STATE_HOME", saved.c_str(), 1);
}
