// Writes the seed corpora of the fuzz targets (tests/fuzz/corpus/<target>/)
// from the real encoders, so seeds follow the formats as they change:
//   make_fuzz_corpus tests/fuzz/corpus
// Seeds are valid encodings; the fuzzers mutate them from there. Sealed
// seeds use the fixed keys of the fuzz targets, so they open there.
#include <cstdio>
#include <filesystem>
#include <string>

#include "compress/codec.hpp"
#include "crypto/aead.hpp"
#include "engine/tree.hpp"
#include "fuzz_util.hpp"
#include "repo/index_segment.hpp"
#include "repo/key_slot.hpp"
#include "repo/keyring.hpp"
#include "repo/pack.hpp"
#include "repo/repo_config.hpp"
#include "repo/snapshot.hpp"
#include "util/fs.hpp"

using namespace bkp;
namespace fs = std::filesystem;

namespace {

fs::path g_root;

void put(const std::string& target, const std::string& name, util::ByteView bytes) {
  auto dir = g_root / target;
  fs::create_directories(dir);
  auto st = util::write_file_atomic(dir / name, bytes, 0644, util::Overwrite::allow);
  if (!st) {
    std::fprintf(stderr, "make_fuzz_corpus: %s\n", st.error().message.c_str());
    std::exit(1);
  }
}

util::Bytes cat(std::initializer_list<util::ByteView> parts) {
  util::Bytes out;
  for (auto p : parts) util::append(out, p);
  return out;
}

util::Bytes u32(std::uint32_t v) {
  util::Bytes b;
  util::put_u32le(b, v);
  return b;
}

repo::BlobId id_of(std::uint8_t fill) {
  repo::BlobId id;
  id.fill(fill);
  return id;
}

void repo_configs() {
  repo::RepoConfig c;
  c.id = std::string(64, 'a');
  c.created = "2024-05-01T12:00:00Z";
  put("repo_config", "default", c.encode());
  c.compression = {compress::Codec::lz4, 0};
  c.chunker = {64 * 1024, 128 * 1024, 1024 * 1024};
  c.pack_size = 4 * 1024 * 1024;
  put("repo_config", "lz4-small-chunks", c.encode());
  c.compression = {compress::Codec::zstd, 19};
  put("repo_config", "zstd19", c.encode());
  c.compression = {compress::Codec::none, 0};
  c.created.clear();
  put("repo_config", "none", c.encode());
}

void key_slots() {
  repo::KeySlot s;
  s.id = "0123456789abcdef";
  s.kdf = {2, 67108864, util::Bytes(16, 0x5a)};
  s.wrapped = util::Bytes(60, 0xc3);
  s.created = "2024-05-01T12:00:00Z";
  s.hostname = "host";
  s.username = "root";
  put("key_slot", "passphrase", s.encode());
  s.kind = repo::SlotKind::key_file;
  s.role = "backup";
  put("key_slot", "key-file", s.encode());
}

void keyrings() {
  auto k = repo::Keyring::create(util::as_bytes("config"));
  put("keyring", "one-key", k.encode().view());
  for (int i = 0; i < 2; ++i) {
    auto extra = repo::Keyring::create(util::as_bytes("other"));
    k.data_keys.push_back(extra.data_keys[0]);
  }
  k.generation = 7;
  k.current = k.data_keys[2].id;
  put("keyring", "three-keys", k.encode().view());
}

std::vector<repo::PackHeaderEntry> some_entries(std::size_t n) {
  std::vector<repo::PackHeaderEntry> e;
  std::uint32_t offset = 0;
  for (std::size_t i = 0; i < n; ++i) {
    auto type = i % 2 ? repo::BlobType::tree : repo::BlobType::data;
    e.push_back({type, id_of(static_cast<std::uint8_t>(i + 1)), offset, 100, 300});
    offset += 100;
  }
  return e;
}

void pack_entries_and_headers() {
  for (std::size_t n : {0, 1, 3}) {
    put("pack_entries", "entries-" + std::to_string(n), repo::encode_pack_entries(some_entries(n)));
    util::Bytes header{1};
    util::append(header, repo::encode_pack_entries(some_entries(n)));
    // Mode 1: the plaintext, sealed by the target.
    put("pack_header", "plain-" + std::to_string(n), cat({util::Bytes{1}, header}));
    // Mode 0: a sealed envelope under the target's fixed key.
    auto sealed =
        repo::seal_object(repo::ObjectType::pack_header, repo::KeyId{1, 2, 3, 4, 5, 6, 7, 8},
                          fuzz::fixed_key(0x40), header, util::as_bytes("bkp pack header"));
    put("pack_header", "sealed-" + std::to_string(n), cat({util::Bytes{0}, sealed}));
  }
}

void indexes() {
  put("index", "empty", repo::encode_index({}));
  put("index", "one-pack", repo::encode_index({{id_of(0xaa), some_entries(2)}}));
  put("index", "two-packs",
      repo::encode_index({{id_of(0xaa), some_entries(1)}, {id_of(0xbb), some_entries(3)}}));
}

void snapshots() {
  repo::Snapshot s;
  s.id = std::string(64, 'b');
  s.time = "2024-05-01T12:00:00Z";
  s.completed = "2024-05-01T12:01:00Z";
  s.hostname = "host";
  s.username = "root";
  s.source_kind = "files";
  s.source_name = "/etc";
  s.paths = {"/etc"};
  s.tags = {"daily", "weekly"};
  s.tree = id_of(0x11);
  s.stats = {{"files", 12}, {"bytes", 34567}, {"ratio", 0.5}};
  s.program_version = "0.1.0";
  put("snapshot", "full", s.encode());
  s.backup_type = "incremental";
  s.parent = std::string(64, 'c');
  s.extra = {{"lsn", "0/16B3748"}, {"timeline", 1}};
  s.tags.clear();
  put("snapshot", "incremental", s.encode());
}

void envelopes() {
  util::Bytes binding = util::to_bytes("snapshots/abc");
  auto head = [&](std::uint8_t mode, repo::ObjectType type) {
    return util::Bytes{mode, static_cast<std::uint8_t>(type),
                       static_cast<std::uint8_t>(binding.size())};
  };
  auto sealed = repo::seal_object(repo::ObjectType::snapshot, repo::KeyId{1, 2, 3, 4, 5, 6, 7, 8},
                                  fuzz::fixed_key(0x40), util::as_bytes("manifest"), binding);
  put("envelope", "sealed-snapshot", cat({head(0, repo::ObjectType::snapshot), binding, sealed}));
  put("envelope", "plain-keyring",
      cat({head(1, repo::ObjectType::keyring), binding, util::as_bytes("some plaintext")}));
}

void trees() {
  engine::Tree t;
  engine::TreeNode dir;
  dir.meta.name = "etc";
  dir.meta.type = sources::NodeType::dir;
  dir.meta.mode = 0755;
  dir.meta.user = "root";
  dir.meta.group = "root";
  dir.meta.mtime_ns = 1714564800000000000;
  dir.subtree = id_of(0x22);
  engine::TreeNode file;
  file.meta.name = "hosts";
  file.meta.mode = 0644;
  file.meta.uid = 1000;
  file.meta.size = 1234;
  file.meta.sparse = true;
  file.meta.xattrs = {{"user.note", util::to_bytes("x")}};
  file.content = {id_of(0x33), id_of(0x44)};
  engine::TreeNode link;
  link.meta.name = "link";
  link.meta.type = sources::NodeType::symlink;
  link.meta.link_target = "hosts";
  engine::TreeNode dev;
  dev.meta.name = "null";
  dev.meta.type = sources::NodeType::chardev;
  dev.meta.rdev = 0x103;
  t.nodes = {std::move(dir), std::move(file), std::move(link), std::move(dev)};
  put("tree", "mixed", engine::encode_tree(t));
  put("tree", "empty", engine::encode_tree({}));
}

void chunks() {
  std::string text;
  for (int i = 0; i < 40; ++i)
    text += "line " + std::to_string(i % 7) + " of a compressible chunk\n";
  auto raw = util::as_bytes(text);
  for (auto codec : {compress::Codec::zstd, compress::Codec::lz4}) {
    auto packed = compress::compress({codec, 0}, raw);
    if (!packed) continue;
    put("decompress", std::string(compress::codec_name(codec)),
        cat({util::Bytes{static_cast<std::uint8_t>(codec)},
             u32(static_cast<std::uint32_t>(raw.size())), *packed}));
  }
  put("decompress", "none", cat({util::Bytes{0}, u32(5), util::as_bytes("hello")}));
}

void configs() {
  put("config", "full.toml", util::as_bytes(R"(# bkp.toml
repository = "/srv/backup"
catalog = "/var/lib/bkp/catalog.db"
compression = "zstd:3"
key_file = "/etc/bkp/key"
password_command = "pass show bkp"
password_file = "/etc/bkp/pass"
progress = false

[encryption]
algorithm = "aes-256-gcm"
)"));
  put("config", "inline.toml",
      util::as_bytes(
          "repository = 's3://bucket/path'\nencryption = { algorithm = \"aes-256-gcm\" }\n"
          "progress = true\n"));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_fuzz_corpus CORPUS_DIR\n");
    return 2;
  }
  g_root = argv[1];
  repo_configs();
  key_slots();
  keyrings();
  pack_entries_and_headers();
  indexes();
  snapshots();
  envelopes();
  trees();
  chunks();
  configs();
  return 0;
}
