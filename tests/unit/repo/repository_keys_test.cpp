// Key slots (add, list, remove) and rotation of the data key and the master
// key: who may do it, what storage holds afterwards, and that old data
// stays readable while old secrets stop working.
#include <catch2/catch.hpp>

#include <set>

#include "helpers.hpp"

using namespace bkp;
using repo::Role;
using util::ErrorKind;
namespace fs = std::filesystem;

namespace {

repo::Credentials key_credentials(std::uint8_t fill) {
  repo::Credentials c;
  c.kind = repo::SlotKind::key_file;
  c.secret = test::test_key(fill);
  return c;
}

util::Result<std::unique_ptr<repo::Repository>> open_with(const test::RepoFixture& f,
                                                          const repo::Credentials& c) {
  return repo::Repository::open(std::make_unique<storage::LocalBackend>(f.store()), c,
                                f.catalog("other"));
}

std::set<std::string> names_under(const fs::path& dir) {
  std::set<std::string> out;
  for (auto& e : fs::directory_iterator(dir)) out.insert(e.path().filename().string());
  return out;
}

// Saves one blob and flushes; returns its id.
repo::BlobId store_blob(repo::Repository& r, const std::string& text) {
  auto data = util::as_bytes(text);
  auto id = r.blob_id(data);
  REQUIRE(r.save_blob(repo::BlobType::data, data, id).ok());
  REQUIRE(r.flush().ok());
  return id;
}

}  // namespace

TEST_CASE("keys: roles have names") {
  for (Role r : {Role::admin, Role::backup, Role::restore}) {
    auto parsed = repo::parse_role(repo::role_name(r));
    REQUIRE(parsed.ok());
    CHECK(*parsed == r);
  }
  auto bad = repo::parse_role("root");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().kind == ErrorKind::usage);
  repo::KeySlot s;
  s.role = "superuser";  // a newer bkp's role counts as the least privileged
  CHECK(s.role_value() == Role::backup);
}

TEST_CASE("keys: key text from a file or a command") {
  std::string hex64(64, 'b');
  CHECK(repo::parse_key_text("bkp-key-v1 " + hex64 + "\n", "x").ok());
  CHECK(repo::parse_key_text(hex64, "x").ok());
  CHECK(repo::parse_key_text(hex64 + "\n", "x").ok());
  for (auto bad : {std::string(), hex64.substr(1), hex64 + "\n\n", "bkp-key-v1 " + hex64 + "x",
                   std::string("password")}) {
    auto r = repo::parse_key_text(bad, "key command output");
    INFO(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::usage);
    CHECK_THAT(r.error().message, Catch::Contains("key command output is not a bkp key"));
  }
}

TEST_CASE("keys: add, list and remove slots") {
  test::RepoFixture f;
  auto r = f.open();
  auto listed = r->list_key_slots();
  REQUIRE(listed.ok());
  REQUIRE(listed->size() == 1);
  CHECK(listed->front().id == r->slot().id);
  CHECK(listed->front().role == "admin");

  auto added = r->add_key_slot(key_credentials(7), Role::restore);
  REQUIRE(added.ok());
  CHECK(added->role == "restore");
  CHECK(added->kind == repo::SlotKind::key_file);
  CHECK(fs::exists(f.store() / added->object_name()));
  listed = r->list_key_slots();
  REQUIRE(listed.ok());
  CHECK(listed->size() == 2);

  // The new secret opens the repository, with the role of its slot.
  auto restorer = open_with(f, key_credentials(7));
  REQUIRE(restorer.ok());
  CHECK((*restorer)->slot().id == added->id);
  CHECK((*restorer)->slot().role_value() == Role::restore);

  SECTION("the same secret twice is refused") {
    auto again = r->add_key_slot(key_credentials(7), Role::admin);
    REQUIRE_FALSE(again.ok());
    CHECK(again.error().kind == ErrorKind::exists);
    auto pass = r->add_key_slot(test::passphrase(test::RepoFixture::kPass), Role::admin);
    REQUIRE_FALSE(pass.ok());
    CHECK(pass.error().kind == ErrorKind::exists);
  }
  SECTION("a restore slot may not change keys or delete") {
    auto& rr = **restorer;
    auto add = rr.add_key_slot(key_credentials(8), Role::admin);
    REQUIRE_FALSE(add.ok());
    CHECK(add.error().kind == ErrorKind::permission);
    CHECK_THAT(add.error().message, Catch::Contains("role 'restore'"));
    auto rm = rr.remove_key_slot(r->slot().id);
    REQUIRE_FALSE(rm.ok());
    CHECK(rm.error().kind == ErrorKind::permission);
    auto rot = rr.rotate_keys(std::nullopt);
    REQUIRE_FALSE(rot.ok());
    CHECK(rot.error().kind == ErrorKind::permission);
    CHECK(rr.may_delete().error().kind == ErrorKind::permission);
    CHECK(r->may_delete().ok());
  }
  SECTION("the last admin slot stays") {
    auto rm = r->remove_key_slot(r->slot().id);
    REQUIRE_FALSE(rm.ok());
    CHECK_THAT(rm.error().message, Catch::Contains("last admin slot"));
    CHECK(fs::exists(f.store() / r->slot().object_name()));
  }
  SECTION("a restore slot can be removed, and its secret stops working") {
    REQUIRE(r->remove_key_slot(added->id).ok());
    auto gone = open_with(f, key_credentials(7));
    REQUIRE_FALSE(gone.ok());
    CHECK(gone.error().kind == ErrorKind::wrong_key);
    auto again = r->remove_key_slot(added->id);
    REQUIRE_FALSE(again.ok());
    CHECK(again.error().kind == ErrorKind::not_found);
  }
  SECTION("with a second admin, the slot in use can go") {
    auto admin2 = r->add_key_slot(key_credentials(11), Role::admin);
    REQUIRE(admin2.ok());
    REQUIRE(r->remove_key_slot(r->slot().id).ok());
    CHECK_FALSE(f.try_open().ok());
    CHECK(open_with(f, key_credentials(11)).ok());
  }
  SECTION("ids are checked before anything is touched") {
    for (auto bad : {"../config", "", "ABCDEF0123456789", "0123"}) {
      auto rm = r->remove_key_slot(bad);
      INFO(bad);
      REQUIRE_FALSE(rm.ok());
      CHECK(rm.error().kind == ErrorKind::usage);
    }
    CHECK(fs::exists(f.store() / "config"));
  }
}

TEST_CASE("keys: rotate makes a new data key current, old data stays readable") {
  test::RepoFixture f;
  auto r = f.open();
  auto old_key = r->keyring().current;
  auto old_blob = store_blob(*r, "written under the first key");

  // A second process opened before the rotation.
  auto stale = f.open("stale");

  auto rot = r->rotate_keys(std::nullopt);
  REQUIRE(rot.ok());
  CHECK(rot->generation == 2);
  CHECK(rot->new_key != old_key);
  CHECK(r->keyring().current == rot->new_key);
  CHECK(r->keyring().find(old_key) != nullptr);
  CHECK(names_under(f.store() / "keyring") ==
        std::set<std::string>{"0000000000000001", "0000000000000002"});

  auto new_blob = store_blob(*r, "written under the second key");
  // New objects name the new key in their envelope.
  for (auto& e : fs::recursive_directory_iterator(f.store() / "index")) {
    auto bytes = util::read_file(e.path());
    REQUIRE(bytes.ok());
    auto h = repo::peek_envelope(*bytes);
    REQUIRE(h.ok());
    CHECK((h->key_id == old_key || h->key_id == rot->new_key));
  }
  auto loc = r->catalog().find_blob(new_blob);
  REQUIRE(loc.ok());
  REQUIRE(loc->has_value());
  auto sealed =
      r->backend().get_range(repo::pack_object_name((*loc)->pack), (*loc)->offset, (*loc)->length);
  REQUIRE(sealed.ok());
  CHECK(repo::peek_envelope(*sealed)->key_id == rot->new_key);

  // A fresh open reads both.
  auto fresh = f.open("fresh");
  REQUIRE(fresh->sync_catalog().ok());
  CHECK(fresh->keyring().generation == 2);
  CHECK(fresh->load_blob(old_blob).ok());
  CHECK(fresh->load_blob(new_blob).ok());

  // The process opened before the rotation learns the new key on demand.
  REQUIRE(stale->sync_catalog().ok());
  CHECK(stale->damaged_objects().empty());
  auto read = stale->load_blob(new_blob);
  INFO((read.ok() ? std::string() : read.error().message));
  CHECK(read.ok());
  // And its own writes, under the old key, stay readable to everyone.
  auto stale_blob = store_blob(*stale, "written by the stale process");
  REQUIRE(fresh->sync_catalog().ok());
  CHECK(fresh->load_blob(stale_blob).ok());

  // Rotating again on top of a stale view keeps every key.
  auto rot2 = stale->rotate_keys(std::nullopt);
  REQUIRE(rot2.ok());
  CHECK(rot2->generation == 3);
  CHECK(stale->keyring().find(rot->new_key) != nullptr);
  CHECK(stale->keyring().find(old_key) != nullptr);
}

TEST_CASE("keys: rewrap gives a new master key and the old secret stops working") {
  test::RepoFixture f;
  auto r = f.open();
  auto blob = store_blob(*r, "before the rewrap");
  auto extra = r->add_key_slot(key_credentials(3), Role::restore);
  REQUIRE(extra.ok());
  auto old_slot = r->slot().id;

  auto rot = r->rotate_keys(key_credentials(5));
  REQUIRE(rot.ok());
  REQUIRE(rot->new_slot.has_value());
  CHECK(rot->cleanup_errors.empty());
  CHECK(rot->removed_slots.size() == 2);
  CHECK(rot->new_slot->role == "admin");
  CHECK(r->slot().id == rot->new_slot->id);
  CHECK(names_under(f.store() / "keys") == std::set<std::string>{rot->new_slot->id});
  CHECK(names_under(f.store() / "keyring") == std::set<std::string>{"0000000000000002"});

  auto old_pass = f.try_open();
  REQUIRE_FALSE(old_pass.ok());
  CHECK(old_pass.error().kind == ErrorKind::wrong_key);
  CHECK_FALSE(open_with(f, key_credentials(3)).ok());

  auto reopened = open_with(f, key_credentials(5));
  REQUIRE(reopened.ok());
  REQUIRE((*reopened)->sync_catalog().ok());
  CHECK((*reopened)->load_blob(blob).ok());
  CHECK((*reopened)->slot().id != old_slot);
  // The process that rewrapped goes on working with the new master key.
  CHECK(r->rotate_keys(std::nullopt).ok());
}

TEST_CASE("keys: an unfinished rewrap leaves both secrets working") {
  test::RepoFixture f;
  auto r = f.open();
  auto blob = store_blob(*r, "before the crash");
  auto slot = f.store() / r->slot().object_name();
  auto old_slot_bytes = util::read_file(slot);
  auto gen1 = util::read_file(f.store() / "keyring/0000000000000001");
  REQUIRE(r->rotate_keys(key_credentials(5)).ok());
  // As if killed before the old slot and generation were removed.
  REQUIRE(util::write_file_atomic(slot, *old_slot_bytes).ok());
  REQUIRE(util::write_file_atomic(f.store() / "keyring/0000000000000001", *gen1).ok());

  auto old_view = f.try_open();
  REQUIRE(old_view.ok());
  CHECK((*old_view)->keyring().generation == 1);
  REQUIRE((*old_view)->sync_catalog().ok());
  CHECK((*old_view)->load_blob(blob).ok());
  auto new_view = open_with(f, key_credentials(5));
  REQUIRE(new_view.ok());
  CHECK((*new_view)->keyring().generation == 2);
}
