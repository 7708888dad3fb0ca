// Reads the golden repository whose keyring is version 3 (key domains,
// writer keys and a shredded domain; tests/data/golden-keyring-v3/README.md),
// and the audit anchors its manifests carry. A change to how lib/repo reads
// keyrings, domains, anchors or audit entries that breaks repositories
// already written fails here. Never regenerate the golden data to make this
// pass.
#include <catch2/catch.hpp>

#include "golden.hpp"
#include "repo/audit_log.hpp"

using namespace bkp;
using nlohmann::json;

namespace {

constexpr const char* kSet = "golden-keyring-v3";

repo::Credentials writer_key() {
  repo::Credentials c;
  c.kind = repo::SlotKind::key_file;
  c.secret = util::SecretBytes(32);
  for (std::size_t i = 0; i < 32; ++i) c.secret.data()[i] = static_cast<std::uint8_t>(0x40 + i);
  return c;
}

struct Content {
  std::string sha256;
  bool default_ids = true;  // every chunk id is the default chunk-id key's
};

// The content of a stream snapshot: its tree holds one file.
Content stream_content(repo::Repository& r, const repo::Snapshot& s, const std::string& name) {
  Content out;
  auto bytes = r.load_blob(s.tree);
  INFO((bytes.ok() ? std::string() : bytes.error().message));
  REQUIRE(bytes.ok());
  auto tree = json::from_cbor(*bytes);
  REQUIRE(tree.at("v") == 1);
  REQUIRE(tree.at("nodes").size() == 1);
  auto& node = tree["nodes"][0];
  auto& n = node.at("n").get_binary();
  CHECK(std::string(n.begin(), n.end()) == name);
  crypto::Sha256 h;
  for (auto& c : node.at("c")) {
    auto& b = c.get_binary();
    REQUIRE(b.size() == 32);
    repo::BlobId id;
    std::copy(b.begin(), b.end(), id.begin());
    auto chunk = r.load_blob(id);
    INFO((chunk.ok() ? std::string() : chunk.error().message));
    REQUIRE(chunk.ok());
    if (r.blob_id(*chunk) != id) out.default_ids = false;
    h.update(*chunk);
  }
  out.sha256 = util::to_hex(h.finish());
  return out;
}

}  // namespace

TEST_CASE("golden keyring v3: domains, writer keys and a shredded domain") {
  test::GoldenRepo g(kSet);
  auto r = g.open();
  auto& want = g.expected["keyring"];
  auto& ring = r->keyring();
  CHECK(r->config().id == g.expected["repository_id"]);
  CHECK(ring.generation == want["generation"]);
  CHECK(ring.data_keys.size() == want["data_keys"]);
  CHECK(util::to_hex(ring.current) == want["current"]);
  // Writer keys (the version 2 part, inside version 3).
  REQUIRE(ring.box);
  CHECK(util::to_hex(ring.box->public_key) == want["box_public_key"]);
  CHECK(ring.box->secret_key.size() == 32);
  CHECK(util::to_hex(ring.index_key) == want["index_key"]);
  CHECK(ring.find(ring.index_key));
  // The domain, with keys of its own.
  REQUIRE(ring.domains.size() == 1);
  auto& acme = ring.domains[0];
  CHECK(acme.name == want["domains"][0]["name"]);
  CHECK(util::to_hex(acme.data_key) == want["domains"][0]["data_key"]);
  CHECK(ring.find(acme.data_key));
  CHECK(acme.chunk_id_key.size() == 32);
  CHECK(acme.chunker_seed.size() == 32);
  CHECK(ring.domain_of(ring.current) == nullptr);
  // The shredded one: its name, former key id and time, and no key.
  REQUIRE(ring.shredded.size() == 1);
  auto& gone = ring.shredded[0];
  CHECK(gone.name == want["shredded"][0]["name"]);
  CHECK(util::to_hex(gone.data_key) == want["shredded"][0]["data_key"]);
  CHECK(gone.shredded_ns == want["shredded"][0]["shredded_ns"]);
  CHECK(ring.find(gone.data_key) == nullptr);
  CHECK(ring.shredded_key(gone.data_key) == &gone);
  CHECK_FALSE(r->use_key_domain("gone").ok());

  // The backup slot opens it too, as a writer that reads nothing back.
  auto w = repo::Repository::open(std::make_unique<storage::LocalBackend>(g.store()), writer_key(),
                                  g.dir.path() / "writer.db");
  INFO((w.ok() ? std::string() : w.error().message));
  REQUIRE(w.ok());
  CHECK((*w)->is_writer());
}

TEST_CASE("golden keyring v3: snapshots in and out of the domain, and their audit anchors") {
  test::GoldenRepo g(kSet);
  auto r = g.open();
  REQUIRE(r->sync_catalog().ok());
  const auto acme_key = r->keyring().domains.at(0).data_key;
  for (auto& want : g.expected["snapshots"]) {
    std::string id = want["id"];
    INFO("snapshot " << id);
    auto s = r->load_snapshot(id);
    REQUIRE(s.ok());
    CHECK(s->source_name == want["source"]);
    CHECK(util::to_hex(s->tree) == want["tree"]);
    auto sealed = r->backend().get("snapshots/" + id);
    REQUIRE(sealed.ok());
    auto header = repo::peek_envelope(*sealed);
    REQUIRE(header.ok());
    const bool in_acme = want["domain"] == "acme";
    CHECK((header->key_id == acme_key) == in_acme);
    REQUIRE(s->audit);
    CHECK(s->audit->chain == want["audit"]["chain"]);
    CHECK(s->audit->seq == want["audit"]["seq"]);
    CHECK(s->audit->mac == want["audit"]["mac"]);
    auto content = stream_content(*r, *s, want["source"]);
    CHECK(content.sha256 == want["sha256"]);
    // A domain's chunks are named with its own chunk-id key (this process
    // uses the default keys).
    CHECK(content.default_ids == !in_acme);
  }
  // The stored audit entry verifies, and both anchors point at it.
  auto report = repo::verify_audit(*r);
  REQUIRE(report.ok());
  for (auto& p : report->problems) UNSCOPED_INFO(p);
  CHECK(report->problems.empty());
  CHECK(report->entries == 1);
  CHECK(report->imported == 1);
  CHECK(report->anchors == 2);
  CHECK(report->anchors_unread == 0);
}
