// Backup slots: write-only keys. A backup slot adds snapshots and
// deduplicates, but holds no key that opens data, trees or snapshots; admin
// and restore slots read what it wrote through the keyring's private key.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "helpers.hpp"

using namespace bkp;
using repo::BlobType;
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

std::unique_ptr<repo::Repository> open_with(const test::RepoFixture& f, const repo::Credentials& c,
                                            const std::string& catalog) {
  auto r = repo::Repository::open(std::make_unique<storage::LocalBackend>(f.store()), c,
                                  f.catalog(catalog));
  INFO((r.ok() ? std::string() : r.error().message));
  REQUIRE(r.ok());
  return std::move(r).value();
}

repo::BlobId save(repo::Repository& r, BlobType type, const util::Bytes& data) {
  auto id = r.blob_id(data);
  REQUIRE(r.save_blob(type, data, id).ok());
  return id;
}

repo::Snapshot snapshot_of(const repo::BlobId& tree) {
  repo::Snapshot s;
  s.id = repo::new_snapshot_id();
  s.time = "2026-11-26T10:00:00Z";
  s.completed = "2026-11-26T10:00:01Z";
  s.source_kind = "stdin";
  s.source_name = "db";
  s.tree = tree;
  return s;
}

}  // namespace

TEST_CASE("write-only: keyring version 2 and writer keyring encodings") {
  auto k = repo::Keyring::create(util::to_bytes("config"));
  k.add_writer_keys();
  REQUIRE(k.box.has_value());
  CHECK(&k.index_sealing_key() != &k.current_key());
  auto enc = k.encode();
  CHECK(util::get_u32le(enc.data()) == 2);
  auto dec = repo::Keyring::decode(enc.view());
  REQUIRE(dec.ok());
  REQUIRE(dec->box.has_value());
  CHECK(dec->box->public_key == k.box->public_key);
  CHECK(util::to_hex(dec->box->secret_key.view()) == util::to_hex(k.box->secret_key.view()));
  CHECK(dec->index_key == k.index_key);
  // Truncated, or an index key that is not in the keyring.
  CHECK(repo::Keyring::decode(enc.view().first(enc.size() - 1)).error().kind == ErrorKind::corrupt);
  auto bad = enc;
  bad.data()[bad.size() - 1] ^= 1;
  CHECK(repo::Keyring::decode(bad.view()).error().kind == ErrorKind::corrupt);

  auto w = repo::WriterKeyring::from(k);
  auto wenc = w.encode();
  auto wdec = repo::WriterKeyring::decode(wenc.view());
  REQUIRE(wdec.ok());
  CHECK(wdec->index_key.id == k.index_key);
  CHECK(wdec->box_public_key == k.box->public_key);
  CHECK(wdec->config_digest == k.config_digest);
  CHECK(repo::WriterKeyring::decode(wenc.view().first(20)).error().kind == ErrorKind::corrupt);
  auto newer = wenc;
  newer.data()[0] = 2;
  CHECK(repo::WriterKeyring::decode(newer.view()).error().kind == ErrorKind::usage);
  CHECK(repo::WriterKeyring::decode(wenc.view().first(2)).error().kind == ErrorKind::corrupt);

  // A session keyring holds the index key and the session key, no other.
  repo::DataKey session;
  session.id = {1, 2, 3, 4, 5, 6, 7, 8};
  session.key = test::test_key(4);
  auto view = w.session_keyring(session);
  CHECK(view.current == session.id);
  CHECK(view.find(k.current) == nullptr);
  CHECK(view.box->secret_key.empty());

  // Session keys open with the key pair only, under their own id.
  auto sealed = repo::seal_session_key(session, k.box->public_key);
  auto opened = repo::open_session_key(*k.box, session.id, sealed);
  REQUIRE(opened.ok());
  CHECK(util::to_hex(opened->key.view()) == util::to_hex(session.key.view()));
  CHECK(repo::open_session_key(*k.box, repo::KeyId{}, sealed).error().kind ==
        ErrorKind::verification);
  auto other = repo::Keyring::create(util::to_bytes("config"));
  other.add_writer_keys();
  CHECK(repo::open_session_key(*other.box, session.id, sealed).error().kind ==
        ErrorKind::verification);
  auto short_plain = crypto::box_seal(k.box->public_key, util::to_bytes("short"));
  CHECK(repo::open_session_key(*k.box, session.id, short_plain).error().kind == ErrorKind::corrupt);
}

TEST_CASE("write-only: a backup slot writes but cannot read, an admin reads it all") {
  test::RepoFixture f;
  auto admin = f.open();
  auto before = save(*admin, BlobType::data, test::noise(5000, 1));  // under keyring v1
  REQUIRE(admin->flush().ok());

  auto added = admin->add_key_slot(key_credentials(1), Role::backup);
  REQUIRE(added.ok());
  CHECK(added->holds_writer_keyring());
  CHECK(admin->keyring().generation == 2);
  REQUIRE(admin->keyring().box.has_value());
  // The slot holds no master key.
  auto slot_json = nlohmann::json::parse(*util::read_text_file(f.store() / added->object_name()));
  CHECK(slot_json["version"] == 2);
  CHECK(slot_json["role"] == "backup");
  CHECK(slot_json.contains("wrapped_writer_keyring"));
  CHECK_FALSE(slot_json.contains("wrapped_master_key"));
  // Only one upgrade: a second backup slot reuses the key pair.
  REQUIRE(admin->add_key_slot(key_credentials(2), Role::backup).ok());
  CHECK(admin->keyring().generation == 2);

  // Written by the admin after the upgrade: the index names the index key.
  auto shared = test::noise(7000, 2);
  save(*admin, BlobType::data, shared);
  REQUIRE(admin->flush().ok());

  auto writer = open_with(f, key_credentials(1), "backup-host");
  CHECK(writer->is_writer());
  CHECK(writer->slot().role_value() == Role::backup);
  REQUIRE(writer->sync_catalog().ok());
  CHECK(writer->damaged_objects().empty());
  // Dedup against the admin's post-upgrade blobs works (index key); the
  // pre-upgrade index is sealed with a data key, so it is simply skipped.
  auto dedup = writer->save_blob(BlobType::data, shared, writer->blob_id(shared));
  REQUIRE(dedup.ok());
  CHECK_FALSE(*dedup);

  auto content = test::noise(9000, 3);
  auto content_id = save(*writer, BlobType::data, content);
  auto tree = save(*writer, BlobType::tree, util::to_bytes("a tree"));
  auto snap = snapshot_of(tree);
  REQUIRE(writer->save_snapshot(snap).ok());
  auto session = writer->keyring().current;
  CHECK(fs::exists(f.store() / repo::session_object_name(session)));

  // Within its session the writer holds the session key (it had the
  // plaintext anyway); once the process ends the key is gone: a later
  // session of the same slot cannot read back what it wrote, nor anything.
  auto writer2 = open_with(f, key_credentials(1), "backup-host");
  CHECK(writer2->keyring().current != session);
  REQUIRE(writer2->sync_catalog().ok());
  CHECK(writer2->damaged_objects().empty());
  for (auto id : {content_id, tree}) {
    auto r = writer2->load_blob(id);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::permission);
    CHECK_THAT(r.error().message, Catch::Contains("role 'backup'"));
  }
  // Not even in its index: the pre-upgrade segment is unreadable to it.
  CHECK(writer2->load_blob(before).error().kind == ErrorKind::verification);
  auto ls = writer2->load_snapshot(snap.id);
  REQUIRE_FALSE(ls.ok());
  CHECK(ls.error().kind == ErrorKind::permission);
  // It may not manage keys or delete.
  CHECK(writer2->add_key_slot(key_credentials(9), Role::admin).error().kind ==
        ErrorKind::permission);
  CHECK(writer2->rotate_keys(std::nullopt).error().kind == ErrorKind::permission);
  CHECK(writer2->may_delete().error().kind == ErrorKind::permission);

  // The admin, already open (keyring v2 in memory) and fresh, reads it all.
  REQUIRE(admin->sync_catalog().ok());
  CHECK(admin->damaged_objects().empty());
  auto back = admin->load_blob(content_id);
  REQUIRE(back.ok());
  CHECK(*back == content);
  auto fresh = f.open("fresh");
  REQUIRE(fresh->sync_catalog().ok());
  CHECK(fresh->damaged_objects().empty());
  auto s = fresh->load_snapshot(snap.id);
  REQUIRE(s.ok());
  CHECK(s->tree == tree);
  CHECK(*fresh->load_blob(content_id) == content);

  // A restore slot reads it too.
  REQUIRE(admin->add_key_slot(key_credentials(3), Role::restore).ok());
  auto restorer = open_with(f, key_credentials(3), "restore-host");
  REQUIRE(restorer->sync_catalog().ok());
  CHECK(*restorer->load_blob(content_id) == content);

  // A damaged session key object: the data reads as damaged, not as ours.
  test::flip_byte(f.store() / repo::session_object_name(session), 10);
  auto after = f.open("after-damage");
  REQUIRE(after->sync_catalog().ok());
  CHECK(after->load_blob(content_id).error().kind == ErrorKind::verification);
}

TEST_CASE("write-only: rewrap keeps backup slots, and their data readable") {
  test::RepoFixture f;
  auto admin = f.open();
  REQUIRE(admin->add_key_slot(key_credentials(1), Role::backup).ok());
  auto writer = open_with(f, key_credentials(1), "backup-host");
  auto content = test::noise(3000, 4);
  auto id = save(*writer, BlobType::data, content);
  REQUIRE(writer->flush().ok());

  auto rot = admin->rotate_keys(key_credentials(7));
  REQUIRE(rot.ok());
  CHECK(rot->removed_slots.size() == 1);  // the old admin slot only
  auto writer_again = open_with(f, key_credentials(1), "backup-host");
  CHECK(writer_again->is_writer());
  auto reader = open_with(f, key_credentials(7), "new-admin");
  REQUIRE(reader->sync_catalog().ok());
  CHECK(*reader->load_blob(id) == content);
}
