// The local cache of sealed tree blobs (repo/tree_cache.hpp): filled when
// trees are written and when one is read, used only after authentication,
// and safe to lose.
#include <catch2/catch.hpp>

#include "helpers.hpp"

using namespace bkp;
using repo::BlobType;
using util::ErrorKind;
namespace fs = std::filesystem;

namespace {

repo::BlobId save_tree(repo::Repository& r, const std::string& text) {
  auto data = util::to_bytes(text);
  auto id = r.blob_id(data);
  auto saved = r.save_blob(BlobType::tree, data, id);
  REQUIRE(saved.ok());
  return id;
}

std::size_t files_under(const fs::path& dir) {
  std::size_t n = 0;
  if (!fs::exists(dir)) return 0;
  for (auto& e : fs::recursive_directory_iterator(dir)) n += e.is_regular_file();
  return n;
}

std::string slurp(const fs::path& p) {
  auto bytes = util::read_file(p);
  REQUIRE(bytes.ok());
  return std::string(util::as_chars(*bytes));
}

std::string text_of(util::Result<util::Bytes> r) {
  INFO((r.ok() ? std::string() : r.error().message));
  REQUIRE(r.ok());
  return std::string(util::as_chars(*r));
}

}  // namespace

TEST_CASE("tree cache: local disk has none by default") {
  test::RepoFixture f;
  CHECK(f.open()->tree_cache() == nullptr);
}

TEST_CASE("tree cache: written trees are read back from it, authenticated") {
  test::RepoFixture f;
  auto r = f.open();
  fs::path dir = f.dir.path() / "trees";
  r->set_tree_cache(dir);
  auto a = save_tree(*r, "tree a");
  auto b = save_tree(*r, "tree b");
  REQUIRE(r->flush().ok());
  auto cache = r->tree_cache();
  REQUIRE(cache != nullptr);
  CHECK(files_under(dir) == 2);
  CHECK((fs::status(cache->path_of(a)).permissions() & fs::perms::all) ==
        (fs::perms::owner_read | fs::perms::owner_write));
  CHECK((fs::status(dir).permissions() & fs::perms::all) == fs::perms::owner_all);
  // Sealed as in the pack: the plaintext is not on disk.
  CHECK(slurp(cache->path_of(a)).find("tree a") == std::string::npos);

  // With the pack gone from storage, the trees still load: from the cache.
  auto loc = r->locate_blob(a);
  REQUIRE(loc.ok());
  fs::path pack = f.store() / repo::pack_object_name(loc->pack);
  auto pack_bytes = util::read_file(pack);
  REQUIRE(pack_bytes.ok());
  fs::permissions(pack, fs::perms::owner_read | fs::perms::owner_write);
  fs::remove(pack);
  CHECK(text_of(r->load_blob(a)) == "tree a");
  CHECK(text_of(r->load_blob(b)) == "tree b");

  SECTION("a damaged entry is not used, and is removed") {
    test::flip_byte(cache->path_of(a), fs::file_size(cache->path_of(a)) / 2);
    auto got = r->load_blob(a);
    REQUIRE_FALSE(got.ok());
    CHECK(got.error().kind == ErrorKind::verification);  // the pack is gone
    CHECK_FALSE(fs::exists(cache->path_of(a)));
    // With the pack back, the blob is read from storage and cached again.
    REQUIRE(util::write_file_atomic(pack, *pack_bytes).ok());
    CHECK(text_of(r->load_blob(a)) == "tree a");
    CHECK(fs::exists(cache->path_of(a)));
  }
  SECTION("another blob's entry planted under an id is refused") {
    REQUIRE(util::write_file_atomic(pack, *pack_bytes).ok());
    fs::copy_file(cache->path_of(b), cache->path_of(a), fs::copy_options::overwrite_existing);
    CHECK(text_of(r->load_blob(a)) == "tree a");
    CHECK(slurp(cache->path_of(a)) != slurp(cache->path_of(b)));
  }
  SECTION("the cache may be deleted") {
    REQUIRE(util::write_file_atomic(pack, *pack_bytes).ok());
    fs::remove_all(dir);
    CHECK(text_of(r->load_blob(b)) == "tree b");
    CHECK(fs::exists(cache->path_of(b)));
  }
}

TEST_CASE("tree cache: a miss reads the neighbouring trees of its pack with it") {
  test::RepoFixture f;
  std::vector<repo::BlobId> ids;
  {
    auto w = f.open();  // no cache: nothing written beside the catalog
    for (int i = 0; i < 20; ++i) ids.push_back(save_tree(*w, "tree " + std::to_string(i)));
    REQUIRE(w->flush().ok());
  }
  // Another host: its own catalog (synced from storage) and an empty cache.
  auto r = f.open("host-b");
  REQUIRE(r->sync_catalog().ok());
  fs::path dir = f.dir.path() / "trees-b";
  r->set_tree_cache(dir);
  CHECK(text_of(r->load_blob(ids[7])) == "tree 7");
  CHECK(files_under(dir) == 20);
  // The rest now comes from the cache: the pack may go.
  auto loc = r->locate_blob(ids[0]);
  REQUIRE(loc.ok());
  fs::path pack = f.store() / repo::pack_object_name(loc->pack);
  fs::permissions(pack, fs::perms::owner_read | fs::perms::owner_write);
  fs::remove(pack);
  for (int i = 0; i < 20; ++i) CHECK(text_of(r->load_blob(ids[i])) == "tree " + std::to_string(i));
}

TEST_CASE("tree cache: trimming drops entries the catalog does not know") {
  test::RepoFixture f;
  auto r = f.open();
  fs::path dir = f.dir.path() / "trees";
  r->set_tree_cache(dir);
  auto a = save_tree(*r, "tree a");
  REQUIRE(r->flush().ok());
  auto cache = r->tree_cache();
  repo::BlobId gone{};
  gone.fill(0xab);
  cache->put(gone, util::as_bytes("sealed bytes of a tree prune deleted"));
  auto leftover = cache->path_of(a).string() + ".tmp-abcdefghijkl";
  REQUIRE(util::write_file_atomic(leftover, util::as_bytes("half")).ok());
  CHECK(files_under(dir) == 3);
  r->trim_tree_cache();
  CHECK(files_under(dir) == 1);
  CHECK(fs::exists(cache->path_of(a)));
  CHECK(text_of(r->load_blob(a)) == "tree a");
}
