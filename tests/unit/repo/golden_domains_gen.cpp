// Writes the golden repository with a version 3 keyring (key domains,
// writer keys, a shredded domain) and audit anchors in its manifests:
//   golden_domains_gen OUT_DIR
// See tests/data/golden-keyring-v3/README.md. Run once; never regenerate.
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "crypto/hash.hpp"
#include "engine/backup.hpp"
#include "repo/audit_log.hpp"
#include "storage/local.hpp"

using namespace bkp;
namespace fs = std::filesystem;

namespace {

constexpr const char* kPassphrase = "golden-passphrase";
const fs::path kWork = "/tmp/bkp-golden-keyring-v3";

[[noreturn]] void die(const std::string& what) {
  std::cerr << "golden_domains_gen: " << what << "\n";
  std::exit(1);
}

template <class R>
auto must(R r, const std::string& what) {
  if (!r.ok()) die(what + ": " + r.error().message);
  if constexpr (!std::is_same_v<R, util::Status>) return std::move(r).value();
}

std::string lines(std::size_t count, const char* word) {
  std::string out;
  char buf[64];
  for (std::size_t i = 0; i < count; ++i) {
    std::snprintf(buf, sizeof buf, "%s %05zu\n", word, i);
    out += buf;
  }
  return out;
}

repo::Credentials passphrase() {
  repo::Credentials c;
  c.secret = util::SecretBytes(util::as_bytes(kPassphrase));
  return c;
}

// The backup slot's key file secret: bytes 0x40, 0x41, ... (32 of them).
repo::Credentials writer_key() {
  repo::Credentials c;
  c.kind = repo::SlotKind::key_file;
  c.secret = util::SecretBytes(32);
  for (std::size_t i = 0; i < 32; ++i) c.secret.data()[i] = static_cast<std::uint8_t>(0x40 + i);
  return c;
}

std::unique_ptr<repo::Repository> open(const fs::path& store) {
  return must(repo::Repository::open(std::make_unique<storage::LocalBackend>(store), passphrase(),
                                     kWork / "catalog.db"),
              "open");
}

// Backs `content` up as the stream `name`; returns what the test checks.
nlohmann::json backup(repo::Repository& r, const std::string& name, const std::string& content) {
  auto path = kWork / name;
  std::ofstream(path, std::ios::binary) << content;
  int fd = ::open(path.c_str(), O_RDONLY);
  engine::StreamBackupOptions o;
  o.name = name;
  o.input_fd = fd;
  auto report = must(engine::backup_stream(r, o), "backup " + name);
  ::close(fd);
  auto stored = must(r.load_snapshot(report.snapshot.id), "reading back " + name);
  if (!stored.audit) die("snapshot of " + name + " has no audit anchor");
  return {
      {"id", stored.id},
      {"source", stored.source_name},
      {"tree", util::to_hex(stored.tree)},
      {"domain", r.key_domain() ? r.key_domain()->name : ""},
      {"sha256", util::to_hex(crypto::sha256(util::as_bytes(content)))},
      {"size", content.size()},
      {"audit",
       {{"chain", stored.audit->chain}, {"seq", stored.audit->seq}, {"mac", stored.audit->mac}}}};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) die("usage: golden_domains_gen OUT_DIR");
  ::setenv("BKP_TEST_FAST_KDF", "1", 1);
  fs::path out = argv[1];
  if (fs::exists(out / "repo")) die("'" + (out / "repo").string() + "' exists; never regenerate");
  fs::remove_all(kWork);
  fs::create_directories(kWork);
  const auto store = out / "repo";

  storage::LocalBackend backend(store);
  repo::InitOptions init;
  init.compression = {compress::Codec::zstd, 0};
  init.chunker = {1024, 4096, 16384};
  init.pack_size = 32 * 1024;
  auto repo_id = must(repo::Repository::init(backend, passphrase(), init), "init");

  nlohmann::json snaps = nlohmann::json::array();
  {
    auto r = open(store);
    // Generation 2 (keyring version 2): writer keys, for a backup slot.
    must(r->add_key_slot(writer_key(), repo::Role::backup), "adding the backup slot");
    // One audit entry, so that the manifests below carry an anchor.
    catalog::AuditRow row;
    row.time = "2026-11-27T00:00:00.000000Z";
    row.user = "golden";
    row.host = "golden-host";
    row.command = "init";
    row.args = R"(["init"])";
    must(repo::append_audit(*r, row), "audit entry");
    snaps.push_back(backup(*r, "default.txt", lines(1500, "default")));
    // Generation 3 (keyring version 3): domain "acme".
    must(r->use_key_domain("acme"), "domain acme");
    snaps.push_back(backup(*r, "acme.txt", lines(2000, "acme")));
  }
  {
    auto r = open(store);
    must(r->use_key_domain("gone"), "domain gone");  // generation 4
  }
  auto r = open(store);
  // Generation 5: "gone" shredded (kept as name, key id and time); the
  // older generations are removed.
  auto gone = must(r->shred_key_domain("gone"), "shredding gone");
  const auto& ring = r->keyring();
  const auto* acme = ring.find_domain("acme");
  if (!acme || ring.generation != 5 || !ring.box) die("unexpected keyring");

  nlohmann::json expected{
      {"passphrase", kPassphrase},
      {"writer_key_file_bytes", "0x40 + i for i in 0..31"},
      {"repository_id", repo_id},
      {"keyring",
       {{"generation", ring.generation},
        {"data_keys", ring.data_keys.size()},
        {"current", util::to_hex(ring.current)},
        {"index_key", util::to_hex(ring.index_key)},
        {"box_public_key", util::to_hex(ring.box->public_key)},
        {"domains", {{{"name", acme->name}, {"data_key", util::to_hex(acme->data_key)}}}},
        {"shredded",
         {{{"name", gone.name},
           {"data_key", util::to_hex(gone.data_key)},
           {"shredded_ns", gone.shredded_ns}}}}}},
      {"snapshots", snaps}};
  std::ofstream(out / "expected.json") << expected.dump(2) << "\n";
  std::cout << "wrote " << store.string() << " (" << repo_id << ")\n";
  return 0;
}
