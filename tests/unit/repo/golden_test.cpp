// Reads the golden repository written by format version 1 (see
// tests/data/golden-v1/README.md). It decodes trees with nothing but the
// rules of doc/repository-format.md, so a change to the format, or to how
// lib/repo reads it, fails here. Never regenerate the golden data to make
// this pass: old repositories must stay readable.
#include <catch2/catch.hpp>

#include <map>
#include <set>

#include "golden.hpp"

using namespace bkp;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

constexpr const char* kHelloSha256 =
    "5ab23f94f1fbf486536bb42d03fc29b5e0c18bba6ff50c05ae35bf691f0a45b8";  // "hello, bkp\n"
constexpr const char* kStdinSha256 =
    "5b91d95b7341797dce2f98b51178160906521e3dc3bf9f18ced17df6c6c4b7fd";  // "line 00000\n"...

repo::BlobId id_from(const json& bin) {
  auto& b = bin.get_binary();
  REQUIRE(b.size() == 32);
  repo::BlobId id;
  std::copy(b.begin(), b.end(), id.begin());
  return id;
}

std::string text_of(const json& bin) {
  auto& b = bin.get_binary();
  return std::string(b.begin(), b.end());
}

struct Walked {
  std::map<std::string, std::string> file_sha256;
  std::map<std::string, std::string> symlinks;
  std::map<std::string, json> nodes;
};

// Decodes a tree blob as the format document describes it.
void walk(repo::Repository& r, const repo::BlobId& id, const std::string& prefix, Walked& out) {
  auto bytes = r.load_blob(id);
  INFO((bytes.ok() ? std::string() : bytes.error().message));
  REQUIRE(bytes.ok());
  auto tree = json::from_cbor(*bytes);
  REQUIRE(tree.at("v") == 1);
  std::string previous;
  for (auto& node : tree.at("nodes")) {
    auto name = text_of(node.at("n"));
    CHECK(name > previous);  // sorted by name, no duplicates
    previous = name;
    auto path = prefix + "/" + name;
    out.nodes[path] = node;
    int type = node.at("t");
    if (type == 0) {
      crypto::Sha256 h;
      std::uint64_t size = 0;
      if (node.contains("c")) {
        for (auto& c : node["c"]) {
          auto chunk = r.load_blob(id_from(c));
          REQUIRE(chunk.ok());
          h.update(*chunk);
          size += chunk->size();
        }
      }
      CHECK(size == node.at("s").get<std::uint64_t>());
      out.file_sha256[path] = util::to_hex(h.finish());
    } else if (type == 1) {
      walk(r, id_from(node.at("st")), path, out);
    } else if (type == 2) {
      out.symlinks[path] = text_of(node.at("lt"));
    }
  }
}

}  // namespace

TEST_CASE("golden: config, keys and keyring") {
  test::GoldenRepo g(BKP_GOLDEN_SETS);
  INFO(g.set);
  auto r = g.open();
  auto& c = r->config();
  CHECK(c.version == g.version());
  CHECK(c.blob_id == (g.version() == 1 ? crypto::BlobIdAlgorithm::keyed_blake2b
                                       : crypto::BlobIdAlgorithm::hmac_sha256));
  CHECK(c.id == g.expected["repository_id"]);
  CHECK(c.compression.codec == compress::Codec::zstd);
  CHECK(c.chunker.min_size == 1024);
  CHECK(c.chunker.avg_size == 4096);
  CHECK(c.chunker.max_size == 16384);
  CHECK(c.pack_size == 32 * 1024);
  CHECK(r->slot().kind == repo::SlotKind::passphrase);
  CHECK(r->keyring().generation == 1);
  CHECK(r->keyring().data_keys.size() == 1);

  auto wrong =
      repo::Repository::open(std::make_unique<storage::LocalBackend>(g.store()),
                             test::passphrase("not-the-passphrase"), g.dir.path() / "other.db");
  REQUIRE_FALSE(wrong.ok());
  CHECK(wrong.error().kind == util::ErrorKind::wrong_key);
}

TEST_CASE("golden: snapshots, trees and file contents") {
  test::GoldenRepo g(BKP_GOLDEN_SETS);
  INFO(g.set);
  auto r = g.open();
  REQUIRE(r->sync_catalog().ok());
  auto rows = r->catalog().list_backups();
  REQUIRE(rows.ok());
  REQUIRE(rows->size() == g.expected["snapshots"].size());

  for (auto& want : g.expected["snapshots"]) {
    std::string id = want["id"];
    INFO("snapshot " << id);
    auto s = r->load_snapshot(id);
    REQUIRE(s.ok());
    CHECK(s->source_kind == want["source_kind"]);
    CHECK(s->source_name == want["source"]);
    CHECK(s->backup_type == want["backup_type"]);
    CHECK(s->parent == want["parent"]);
    CHECK(util::to_hex(s->tree) == want["tree"]);

    Walked w;
    walk(*r, s->tree, "", w);
    if (s->source_kind == "stdin") {
      REQUIRE(w.file_sha256.size() == 1);
      CHECK(w.file_sha256["/stdin.txt"] == kStdinSha256);
      CHECK(s->stats["sha256"] == kStdinSha256);
      CHECK(g.expected["stdin"]["sha256"] == kStdinSha256);
      continue;
    }
    CHECK(s->paths == std::vector<std::string>{"/tmp/bkp-golden-v1/tree"});
    CHECK(s->tags == std::vector<std::string>{"golden"});
    const std::string root = "/tmp/bkp-golden-v1/tree";
    CHECK(w.file_sha256[root + "/hello.txt"] == kHelloSha256);
    CHECK(w.file_sha256[root + "/sub/copy.txt"] == kHelloSha256);
    for (auto& [path, sha] : g.expected["files"].items()) {
      if (path == root + "/added.txt" && s->backup_type == "full") {
        CHECK(w.file_sha256.count(path) == 0);
        continue;
      }
      INFO(path);
      CHECK(w.file_sha256[path] == sha);
    }
    CHECK(w.symlinks[root + "/link"] == "hello.txt");

    // Metadata as the tree encodes it.
    auto& hello = w.nodes[root + "/hello.txt"];
    CHECK(hello["m"] == 0644);
    CHECK(hello["mt"] == 1700000000123456789ll);
    CHECK(hello["s"] == 11);
    auto& empty = w.nodes[root + "/empty"];
    CHECK(empty["m"] == 0640);
    CHECK(empty["s"] == 0);
    CHECK_FALSE(empty.contains("c"));
    CHECK(w.nodes[root + "/sub/random.bin"]["m"] == 0600);
    CHECK(w.nodes[root + "/sub"]["t"] == 1);
    CHECK(w.nodes[root + "/sub/words.txt"]["c"].size() > 3);  // several chunks
    // Same content, same chunk ids: deduplicated.
    CHECK(w.nodes[root + "/hello.txt"]["c"] == w.nodes[root + "/sub/copy.txt"]["c"]);
  }
}

TEST_CASE("golden: every pack matches its name and every indexed blob reads") {
  test::GoldenRepo g(BKP_GOLDEN_SETS);
  INFO(g.set);
  auto r = g.open();
  REQUIRE(r->sync_catalog().ok());
  std::size_t packs = 0;
  for (auto& e : fs::recursive_directory_iterator(g.store() / "data")) {
    if (!e.is_regular_file()) continue;
    ++packs;
    auto bytes = util::read_file(e.path());
    REQUIRE(bytes.ok());
    CHECK(util::to_hex(crypto::sha256(*bytes)) == e.path().filename().string());
    auto len = repo::pack_header_length(*bytes);
    REQUIRE(len.ok());
    auto header = repo::open_pack_header(
        util::ByteView(*bytes).subspan(bytes->size() - 4 - *len, *len), r->keyring());
    REQUIRE(header.ok());
    CHECK_FALSE(header->empty());
  }
  CHECK(packs >= 3);

  std::vector<catalog::BlobLocation> blobs;
  REQUIRE(r->catalog()
              .for_each_blob([&](const catalog::BlobLocation& b) -> util::Status {
                blobs.push_back(b);
                return {};
              })
              .ok());
  CHECK(blobs.size() > 10);
  std::set<int> codecs;
  for (auto& b : blobs) {
    auto data = r->load_blob(b.id);
    INFO(util::to_hex(b.id));
    REQUIRE(data.ok());
    CHECK(r->blob_id(*data) == b.id);
    CHECK(data->size() == b.raw_length);
    // Which codec byte it was stored with (both zstd and none occur).
    auto pack = util::read_file(g.store() / repo::pack_object_name(b.pack));
    REQUIRE(pack.ok());
    auto& key =
        *r->keyring().find(repo::peek_envelope(util::ByteView(*pack).subspan(b.offset))->key_id);
    auto plain =
        repo::open_object(b.type == catalog::BlobType::tree ? repo::ObjectType::tree_blob
                                                            : repo::ObjectType::data_blob,
                          key.key, util::ByteView(*pack).subspan(b.offset, b.length), b.id);
    REQUIRE(plain.ok());
    codecs.insert((*plain)[0]);
  }
  CHECK(codecs == std::set<int>{0, 1});
}

TEST_CASE("golden: a fresh catalog rebuilt from the golden storage") {
  test::GoldenRepo g(BKP_GOLDEN_SETS);
  INFO(g.set);
  auto r = g.open();
  REQUIRE(r->rebuild_catalog().ok());
  auto rows = r->catalog().list_backups();
  REQUIRE(rows.ok());
  CHECK(rows->size() == 3);
  // New writes into an old repository work and read back.
  auto data = util::as_bytes("written by a newer bkp");
  auto id = r->blob_id(data);
  REQUIRE(r->save_blob(catalog::BlobType::data, data, id).ok());
  REQUIRE(r->flush().ok());
  auto back = r->load_blob(id);
  REQUIRE(back.ok());
  CHECK(util::as_chars(*back) == "written by a newer bkp");
}
