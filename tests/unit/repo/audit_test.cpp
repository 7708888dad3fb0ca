// The audit log's chain: appends from several catalogs and roles, and that
// verify names an edited, reordered, removed or forged entry.
#include <catch2/catch.hpp>

#include "catalog/catalog.hpp"
#include "helpers.hpp"
#include "repo/audit_entry.hpp"
#include "repo/audit_log.hpp"

using namespace bkp;
using catalog::AuditRow;

namespace {

AuditRow entry(const std::string& command) {
  AuditRow r;
  r.time = "2026-11-27T00:00:00.000000Z";
  r.user = "alice";
  r.uid = 1000;
  r.host = "db1";
  r.command = command;
  r.args = R"(["-r","/srv/repo","snapshots"])";
  return r;
}

void exec(catalog::Catalog& cat, const std::string& sql) {
  REQUIRE(sqlite3_exec(cat.handle(), sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
}

bool mentions(const repo::AuditReport& r, const std::string& text) {
  for (auto& p : r.problems)
    if (p.find(text) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_CASE("audit: entries chain, mirror and verify clean", "[audit]") {
  test::RepoFixture f;
  auto repo = f.open();
  for (auto* c : {"backup", "snapshots", "restore"})
    REQUIRE(repo::append_audit(*repo, entry(c)).ok());
  auto rows = repo->catalog().list_audit();
  REQUIRE(rows.ok());
  REQUIRE(rows->size() == 3);
  CHECK((*rows)[0].prev_mac == repo::audit_genesis_mac);
  CHECK((*rows)[1].prev_mac == (*rows)[0].mac);
  CHECK((*rows)[2].seq == 3);
  for (auto& r : *rows) CHECK(r.mirrored);
  auto report = repo::verify_audit(*repo);
  REQUIRE(report.ok());
  CHECK(report->problems.empty());
  CHECK(report->entries == 3);
}

TEST_CASE("audit: verify names edited, reordered, removed and forged entries", "[audit]") {
  test::RepoFixture f;
  auto repo = f.open();
  for (int i = 0; i < 4; ++i) REQUIRE(repo::append_audit(*repo, entry("snapshots")).ok());
  auto& cat = repo->catalog();
  SECTION("edited") {
    exec(cat, "UPDATE audit_log SET result = 0, args = '[\"x\"]' WHERE seq = 2");
    auto r = repo::verify_audit(*repo);
    REQUIRE(r.ok());
    CHECK(mentions(*r, "00000000000000000002' fails its MAC"));
  }
  SECTION("reordered") {
    exec(cat,
         "UPDATE audit_log SET seq = -seq WHERE seq IN (2, 3);"
         "UPDATE audit_log SET seq = 5 - seq WHERE seq IN (-2, -3);");
    auto r = repo::verify_audit(*repo);
    REQUIRE(r.ok());
    CHECK_FALSE(r->problems.empty());
  }
  SECTION("removed in the middle of both catalog and storage") {
    exec(cat, "DELETE FROM audit_log WHERE seq = 2");
    auto chain = repo::local_audit_chain(cat);
    REQUIRE(repo->backend().remove(repo::audit_object_name(*chain, 2)).ok());
    auto r = repo::verify_audit(*repo);
    REQUIRE(r.ok());
    CHECK(mentions(*r, "entries 2 to 2 are missing"));
  }
  SECTION("appended without the key") {
    auto head = cat.audit_head(*repo::local_audit_chain(cat));
    AuditRow forged = entry("restore");
    forged.chain = (*head)->chain;
    forged.seq = 5;
    forged.prev_mac = (*head)->mac;
    forged.mac = std::string(64, 'a');
    forged.mirrored = true;
    REQUIRE(cat.insert_audit(forged).ok());
    auto r = repo::verify_audit(*repo);
    REQUIRE(r.ok());
    CHECK(mentions(*r, "00000000000000000005' fails its MAC"));
    CHECK(mentions(*r, "00000000000000000005' is missing from the storage"));
  }
}

TEST_CASE("audit: two hosts and a backup-only slot append to one repository", "[audit]") {
  test::RepoFixture f;
  auto a = f.open("host-a");
  auto b = f.open("host-b");
  REQUIRE(repo::append_audit(*a, entry("backup")).ok());
  REQUIRE(repo::append_audit(*b, entry("backup")).ok());
  REQUIRE(repo::append_audit(*a, entry("snapshots")).ok());

  repo::Credentials writer;
  writer.kind = repo::SlotKind::key_file;
  writer.secret = test::test_key(7);
  REQUIRE(a->add_key_slot(writer, repo::Role::backup).ok());
  auto w = repo::Repository::open(std::make_unique<storage::LocalBackend>(f.store()), writer,
                                  f.catalog("backup-host"));
  REQUIRE(w.ok());
  REQUIRE((*w)->is_writer());
  REQUIRE(repo::append_audit(**w, entry("backup")).ok());

  // host-a sees every chain, and every entry verifies.
  auto report = repo::verify_audit(*a);
  REQUIRE(report.ok());
  CHECK(report->problems.empty());
  CHECK(report->chains == 3);
  CHECK(report->entries == 4);
  CHECK(report->imported == 2);
}

TEST_CASE("audit: a pending entry is sealed by the next keyed append", "[audit]") {
  test::RepoFixture f;
  auto repo = f.open();
  REQUIRE(repo::record_pending_audit(repo->catalog(), entry("snapshots")).ok());
  auto r1 = repo::verify_audit(*repo);
  REQUIRE(r1.ok());
  CHECK(r1->pending == 1);
  REQUIRE(repo::append_audit(*repo, entry("snapshots")).ok());
  auto rows = repo->catalog().list_audit();
  REQUIRE(rows.ok());
  REQUIRE(rows->size() == 2);
  CHECK((*rows)[0].seq == 1);
  CHECK_FALSE((*rows)[0].keyed);
  CHECK((*rows)[1].keyed);
  auto r2 = repo::verify_audit(*repo);
  REQUIRE(r2.ok());
  CHECK(r2->problems.empty());
  CHECK(r2->pending == 0);
}

TEST_CASE("audit: stored entries decode strictly", "[audit]") {
  AuditRow r = entry("backup");
  r.chain = std::string(32, 'c');
  r.seq = 1;
  r.prev_mac = repo::audit_genesis_mac;
  r.mac = std::string(64, 'd');
  auto dec = repo::decode_audit_entry(repo::encode_audit_entry(r));
  REQUIRE(dec.ok());
  CHECK(repo::audit_canonical(*dec) == repo::audit_canonical(r));
  for (const char* bad : {"", "[]", "{\"v\":2}", "{\"v\":1}", "{\"v\":1.5}"}) {
    INFO(bad);
    CHECK_FALSE(repo::decode_audit_entry(util::as_bytes(bad)).ok());
  }
  CHECK(repo::parse_audit_object_name(repo::audit_object_name(r.chain, 42))->second == 42);
  CHECK_FALSE(repo::parse_audit_object_name("audit/xyz/1").has_value());
  CHECK_FALSE(repo::parse_audit_object_name("audit/" + r.chain + "/00000000000000000000"));
}

namespace {

repo::Snapshot save_snapshot(repo::Repository& r) {
  auto data = util::as_bytes("a tree");
  auto id = r.blob_id(data);
  REQUIRE(r.save_blob(catalog::BlobType::tree, data, id).ok());
  repo::Snapshot s;
  s.id = repo::new_snapshot_id();
  s.time = "2026-11-27T00:00:00Z";
  s.source_kind = "stdin";
  s.source_name = "x";
  s.tree = id;
  REQUIRE(r.save_snapshot(s).ok());
  auto back = r.load_snapshot(s.id);
  REQUIRE(back.ok());
  return *back;
}

}  // namespace

TEST_CASE("audit: snapshots anchor the chain head; a removed tail is named", "[audit]") {
  test::RepoFixture f;
  auto repo = f.open();
  auto& cat = repo->catalog();
  // No chain yet: nothing to anchor, and no chain is started for it.
  CHECK_FALSE(save_snapshot(*repo).audit);
  CHECK_FALSE(cat.get_meta(repo::audit_chain_meta)->has_value());

  for (int i = 0; i < 3; ++i) REQUIRE(repo::append_audit(*repo, entry("snapshots")).ok());
  auto chain = *repo::local_audit_chain(cat);
  auto snap = save_snapshot(*repo);
  REQUIRE(snap.audit);
  CHECK(snap.audit->chain == chain);
  CHECK(snap.audit->seq == 3);
  CHECK(snap.audit->mac == (*cat.audit_head(chain))->mac);
  REQUIRE(repo::append_audit(*repo, entry("backup")).ok());
  auto clean = repo::verify_audit(*repo);
  REQUIRE(clean.ok());
  CHECK(clean->problems.empty());
  CHECK(clean->anchors == 1);

  SECTION("the tail removed from both places") {
    exec(cat, "DELETE FROM audit_log WHERE seq >= 2");
    for (int seq : {2, 3, 4})
      REQUIRE(repo->backend().remove(repo::audit_object_name(chain, seq)).ok());
    auto r = repo::verify_audit(*repo);
    REQUIRE(r.ok());
    CHECK(mentions(*r, "audit chain '" + chain +
                           "': entries 2 to 3 are missing from both the catalog and the storage: "
                           "'snapshots/" +
                           snap.id + "' recorded entry 3"));
    CHECK(r->problems.size() == 1);
  }
  SECTION("removed from the catalog only: the chain check's to report") {
    exec(cat, "DELETE FROM audit_log WHERE seq >= 2");
    auto r = repo::verify_audit(*repo);
    REQUIRE(r.ok());
    CHECK(mentions(*r, "is in the storage but missing from the catalog"));
    CHECK_FALSE(mentions(*r, "missing from both"));
  }
  SECTION("an unmirrored head is mirrored before it is anchored") {
    exec(cat, "UPDATE audit_log SET mirrored = 0 WHERE seq = 4");
    REQUIRE(repo->backend().remove(repo::audit_object_name(chain, 4)).ok());
    auto anchored = save_snapshot(*repo);
    REQUIRE(anchored.audit);
    CHECK(anchored.audit->seq == 4);
    CHECK(repo->backend().get(repo::audit_object_name(chain, 4)).ok());
  }
  SECTION("a backup-only slot cannot read the anchors; it says so") {
    repo::Credentials writer;
    writer.kind = repo::SlotKind::key_file;
    writer.secret = test::test_key(7);
    REQUIRE(repo->add_key_slot(writer, repo::Role::backup).ok());
    auto w = repo::Repository::open(std::make_unique<storage::LocalBackend>(f.store()), writer,
                                    f.catalog("backup-host"));
    REQUIRE(w.ok());
    auto r = repo::verify_audit(**w);
    REQUIRE(r.ok());
    CHECK(r->problems.empty());
    CHECK(r->anchors == 0);
    CHECK(r->anchors_unread == 2);
  }
}
