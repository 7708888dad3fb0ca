// The write path (blobs -> packs -> index segments) and the read path,
// including damage in storage.
#include <catch2/catch.hpp>

#include <map>
#include <set>

#include "helpers.hpp"

using namespace bkp;
using repo::BlobType;
using util::ErrorKind;
namespace fs = std::filesystem;

namespace {

std::vector<fs::path> objects_under(const fs::path& dir) {
  std::vector<fs::path> out;
  if (!fs::exists(dir)) return out;
  for (auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

repo::BlobId save(repo::Repository& r, util::ByteView data, BlobType type = BlobType::data) {
  auto id = r.blob_id(data);
  auto saved = r.save_blob(type, data, id);
  INFO((saved.ok() ? std::string() : saved.error().message));
  REQUIRE(saved.ok());
  return id;
}

util::Bytes load(repo::Repository& r, const repo::BlobId& id) {
  auto loaded = r.load_blob(id);
  INFO((loaded.ok() ? std::string() : loaded.error().message));
  REQUIRE(loaded.ok());
  return std::move(loaded).value();
}

}  // namespace

TEST_CASE("blobs: save deduplicates and counts") {
  test::RepoFixture f;
  auto r = f.open();
  auto data = util::to_bytes(std::string(5000, 'x'));
  auto id = r->blob_id(data);
  CHECK_FALSE(r->has_blob(id));
  auto first = r->save_blob(BlobType::data, data, id);
  REQUIRE(first.ok());
  CHECK(*first);
  CHECK(r->has_blob(id));
  auto second = r->save_blob(BlobType::data, data, id);
  REQUIRE(second.ok());
  CHECK_FALSE(*second);

  auto& st = r->write_stats();
  CHECK(st.blobs_new == 1);
  CHECK(st.blobs_known == 1);
  CHECK(st.raw_bytes_new == 5000);
  CHECK(st.packs_written == 0);

  REQUIRE(r->flush().ok());
  CHECK(r->write_stats().packs_written == 1);
  CHECK(r->write_stats().stored_bytes_new > 41);
  CHECK(r->write_stats().stored_bytes_new < 200);  // zstd squeezed it; 41 bytes of envelope
  // Known after a flush (catalog), and in a new process (same catalog).
  auto third = r->save_blob(BlobType::data, data, id);
  REQUIRE(third.ok());
  CHECK_FALSE(*third);
  r.reset();
  auto again = f.open();
  CHECK(again->has_blob(id));
  auto fourth = again->save_blob(BlobType::data, data, id);
  REQUIRE(fourth.ok());
  CHECK_FALSE(*fourth);
  CHECK(again->write_stats().blobs_new == 0);
}

TEST_CASE("blobs: load before and after flush, and after reopening") {
  test::RepoFixture f;
  auto r = f.open();
  auto a = test::noise(3000, 1);
  auto b = util::to_bytes(std::string(3000, 'b'));
  auto empty = util::Bytes{};
  auto ida = save(*r, a);
  auto idb = save(*r, b, BlobType::tree);
  auto ide = save(*r, empty);

  // Still in the pack writer: loading seals and writes it first.
  CHECK(load(*r, ida) == a);
  CHECK(objects_under(f.store() / "data").size() == 2);  // data pack, tree pack
  CHECK(objects_under(f.store() / "index").size() == 1);
  CHECK(load(*r, idb) == b);
  CHECK(load(*r, ide) == empty);
  REQUIRE(r->flush().ok());
  CHECK(load(*r, ida) == a);

  r.reset();
  auto again = f.open();
  CHECK(load(*again, ida) == a);
  CHECK(load(*again, idb) == b);
  CHECK(load(*again, ide).empty());
}

TEST_CASE("blobs: data and tree blobs go to separate packs") {
  test::RepoFixture f;
  auto r = f.open();
  save(*r, test::noise(100, 1));
  save(*r, test::noise(100, 2), BlobType::tree);
  REQUIRE(r->flush().ok());
  auto packs = objects_under(f.store() / "data");
  REQUIRE(packs.size() == 2);
  std::set<BlobType> types;
  for (auto& p : packs) {
    auto bytes = util::read_file(p);
    REQUIRE(bytes.ok());
    // The pack's name is the SHA-256 of its bytes.
    CHECK(p.filename().string() == util::to_hex(crypto::sha256(*bytes)));
    CHECK(p.parent_path().filename().string() == p.filename().string().substr(0, 2));
    auto len = repo::pack_header_length(*bytes);
    REQUIRE(len.ok());
    auto header = repo::open_pack_header(
        util::ByteView(*bytes).subspan(bytes->size() - 4 - *len, *len), r->keyring());
    REQUIRE(header.ok());
    REQUIRE(header->size() == 1);
    types.insert((*header)[0].type);
  }
  CHECK(types == std::set<BlobType>{BlobType::data, BlobType::tree});
}

TEST_CASE("blobs: incompressible data is stored as is") {
  test::RepoFixture f;
  auto r = f.open();
  auto data = test::noise(10000, 3);
  auto id = save(*r, data);
  REQUIRE(r->flush().ok());  // sealing may run on worker threads until then
  CHECK(r->write_stats().stored_bytes_new == data.size() + 1 + repo::envelope_overhead);
  auto loc = r->catalog().find_blob(id);
  REQUIRE(loc.ok());
  REQUIRE(loc->has_value());
  CHECK((*loc)->length == data.size() + 1 + repo::envelope_overhead);
  CHECK((*loc)->raw_length == data.size());
  CHECK(load(*r, id) == data);
}

TEST_CASE("blobs: many packs, and blobs larger than a pack") {
  test::RepoFixture f;  // pack_size 64 KiB
  auto r = f.open();
  std::vector<std::pair<repo::BlobId, util::Bytes>> saved;
  for (std::uint64_t i = 0; i < 40; ++i) {
    auto data = test::noise(16 * 1024, 100 + i);
    saved.emplace_back(save(*r, data), data);
  }
  auto big = test::noise(300 * 1024, 7);
  saved.emplace_back(save(*r, big), big);
  REQUIRE(r->flush().ok());
  auto packs = objects_under(f.store() / "data");
  CHECK(packs.size() >= 10);
  CHECK(r->write_stats().packs_written == packs.size());
  for (auto& p : packs) {
    auto size = fs::file_size(p);
    // A pack closes at the first blob that reaches pack_size.
    CHECK((size < 2 * 64 * 1024 || size > 300 * 1024));
  }
  auto count = r->catalog().blob_count();
  REQUIRE(count.ok());
  CHECK(*count == saved.size());
  for (auto& [id, data] : saved) CHECK(load(*r, id) == data);
}

TEST_CASE("blobs: index segments are written during a long backup") {
  auto options = test::RepoFixture::small_options();
  options.pack_size = 1;  // one blob per pack
  test::RepoFixture f(options);
  auto r = f.open();
  constexpr std::uint64_t kBlobs = 200;
  std::vector<repo::BlobId> ids;
  // 50 MiB: more than the sealing workers and the pack writer may hold
  // (16 MiB and three packs), so most packs must be stored and indexed
  // before the flush, whatever the timing of the threads.
  for (std::uint64_t i = 0; i < kBlobs; ++i) ids.push_back(save(*r, test::noise(256 << 10, i)));
  // Some segments exist before the flush: a killed backup loses little.
  CHECK(objects_under(f.store() / "index").size() >= 1);
  REQUIRE(r->flush().ok());
  CHECK(objects_under(f.store() / "data").size() == kBlobs);
  auto segments = objects_under(f.store() / "index");
  REQUIRE(segments.size() >= 2);

  // A segment is written once 8 stored packs wait for one, and packs are
  // learnt of a few at a time (they are stored on another thread): every
  // segment but the one of the final flush holds 8 to 8 + 3 packs.
  std::uint64_t packs_listed = 0;
  std::map<std::size_t, int> sizes;
  for (auto& s : segments) {
    auto name = "index/" + s.filename().string();
    auto plain = r->load_object(repo::ObjectType::index, name);
    REQUIRE(plain.ok());
    auto decoded = repo::decode_index(*plain);
    REQUIRE(decoded.ok());
    packs_listed += decoded->size();
    ++sizes[decoded->size()];
    auto known = r->catalog().has_index_segment(name);
    REQUIRE(known.ok());
    CHECK(*known);
  }
  CHECK(packs_listed == kBlobs);
  int small_segments = 0;
  for (auto& [packs, count] : sizes) {
    INFO(packs << " packs in " << count << " segments");
    CHECK(packs <= 8 + 3);
    if (packs < 8) small_segments += count;
  }
  CHECK(small_segments <= 1);
  for (std::uint64_t i = 0; i < kBlobs; ++i) CHECK(load(*r, ids[i]) == test::noise(256 << 10, i));
}

TEST_CASE("blobs: a pack deleted from storage") {
  test::RepoFixture f;
  auto r = f.open();
  auto id = save(*r, test::noise(500, 1));
  REQUIRE(r->flush().ok());
  auto packs = objects_under(f.store() / "data");
  REQUIRE(packs.size() == 1);
  fs::remove(packs[0]);
  auto loaded = r->load_blob(id);
  REQUIRE_FALSE(loaded.ok());
  CHECK(loaded.error().kind == ErrorKind::verification);
}

TEST_CASE("blobs: a truncated pack") {
  test::RepoFixture f;
  auto r = f.open();
  auto id = save(*r, test::noise(500, 1));
  REQUIRE(r->flush().ok());
  auto pack = objects_under(f.store() / "data").at(0);
  fs::permissions(pack, fs::perms::owner_read | fs::perms::owner_write);
  fs::resize_file(pack, 100);
  auto loaded = r->load_blob(id);
  REQUIRE_FALSE(loaded.ok());
  CHECK(loaded.error().kind == ErrorKind::verification);
}

TEST_CASE("blobs: a flipped byte in a pack") {
  test::RepoFixture f;
  auto r = f.open();
  auto data = test::noise(500, 1);
  auto id = save(*r, data);
  REQUIRE(r->flush().ok());
  auto pack = objects_under(f.store() / "data").at(0);
  for (std::size_t offset : {std::size_t{4}, std::size_t{10}, std::size_t{30}, std::size_t{300},
                             data.size() + repo::envelope_overhead}) {
    test::flip_byte(pack, offset);
    auto loaded = r->load_blob(id);
    INFO("offset " << offset);
    REQUIRE_FALSE(loaded.ok());
    CHECK(loaded.error().kind == ErrorKind::verification);
    CHECK_THAT(loaded.error().message, Catch::Contains("damaged"));
    test::flip_byte(pack, offset);
    CHECK(load(*r, id) == data);
  }
}

TEST_CASE("blobs: a blob that is not in the index") {
  test::RepoFixture f;
  auto r = f.open();
  repo::BlobId id{};
  auto loaded = r->load_blob(id);
  REQUIRE_FALSE(loaded.ok());
  CHECK(loaded.error().kind == ErrorKind::verification);
}

TEST_CASE("blobs: decode_blob checks what it opens") {
  test::RepoFixture f;
  auto r = f.open();
  auto data = util::to_bytes(std::string(1000, 'q'));
  auto id = save(*r, data);
  REQUIRE(r->flush().ok());
  auto loc = **r->catalog().find_blob(id);
  auto pack = *util::read_file(f.store() / repo::pack_object_name(loc.pack));
  auto sealed = util::ByteView(pack).subspan(loc.offset, loc.length);
  REQUIRE(r->decode_blob(loc, sealed).ok());

  auto wrong_size = loc;
  wrong_size.raw_length += 1;
  CHECK(r->decode_blob(wrong_size, sealed).error().kind == ErrorKind::verification);
  auto wrong_type = loc;
  wrong_type.type = BlobType::tree;
  CHECK(r->decode_blob(wrong_type, sealed).error().kind == ErrorKind::verification);
  auto wrong_id = loc;
  wrong_id.id[0] ^= 1;
  CHECK(r->decode_blob(wrong_id, sealed).error().kind == ErrorKind::verification);

  // Authentic envelopes whose content is wrong: bad codec byte, an empty
  // plaintext, content that does not hash to the id.
  auto& key = r->keyring().current_key();
  auto reseal = [&](const util::Bytes& plain) {
    return repo::seal_object(repo::ObjectType::data_blob, key.id, key.key, plain, loc.id);
  };
  util::Bytes bad_codec{9};
  util::append(bad_codec, data);
  CHECK(r->decode_blob(loc, reseal(bad_codec)).error().kind == ErrorKind::verification);
  CHECK(r->decode_blob(loc, reseal({})).error().kind == ErrorKind::verification);
  util::Bytes other{0};
  util::append(other, util::to_bytes(std::string(1000, 'r')));
  CHECK(r->decode_blob(loc, reseal(other)).error().kind == ErrorKind::verification);
  util::Bytes same{0};
  util::append(same, data);
  CHECK(r->decode_blob(loc, reseal(same)).ok());  // stored uncompressed: fine too

  auto unknown_key =
      repo::seal_object(repo::ObjectType::data_blob, repo::KeyId{1}, key.key, same, loc.id);
  CHECK(r->decode_blob(loc, unknown_key).error().kind == ErrorKind::verification);
  CHECK(r->decode_blob(loc, util::Bytes(10, 0)).error().kind == ErrorKind::verification);
}

TEST_CASE("blobs: load_object") {
  test::RepoFixture f;
  auto r = f.open();
  auto missing = r->load_object(repo::ObjectType::index, "index/" + std::string(64, '0'));
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().kind == ErrorKind::not_found);

  auto name = "index/" + std::string(64, '1');
  REQUIRE(util::make_dirs(f.store() / "index").ok());
  REQUIRE(util::write_file_atomic(f.store() / name, util::as_bytes("garbage that is long enough "
                                                                   "to be an envelope at all"))
              .ok());
  auto garbage = r->load_object(repo::ObjectType::index, name);
  REQUIRE_FALSE(garbage.ok());
  CHECK(garbage.error().kind == ErrorKind::corrupt);
  CHECK_THAT(garbage.error().message, Catch::Contains(name));

  auto& key = r->keyring().current_key();
  auto sealed = repo::seal_object(repo::ObjectType::index, repo::KeyId{7}, key.key,
                                  util::as_bytes("x"), util::as_bytes(name));
  REQUIRE(util::write_file_atomic(f.store() / name, sealed).ok());
  auto unknown = r->load_object(repo::ObjectType::index, name);
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.error().kind == ErrorKind::verification);
}

namespace {

// Storage that refuses writes under a prefix while `failing` is set.
class FlakyBackend final : public storage::Backend {
 public:
  FlakyBackend(fs::path root, const bool& failing) : inner_(std::move(root)), failing_(failing) {}
  std::string describe() const override { return inner_.describe(); }
  std::string_view kind() const override { return inner_.kind(); }
  util::Status put(std::string_view name, util::ByteView data, storage::WriteMode mode) override {
    if (failing_ && name.substr(0, 5) == "data/") {
      return util::fail(ErrorKind::transient, "writing '" + std::string(name) + "': timed out");
    }
    return inner_.put(name, data, mode);
  }
  util::Result<util::Bytes> get(std::string_view name) override { return inner_.get(name); }
  util::Result<util::Bytes> get_range(std::string_view name, std::uint64_t offset,
                                      std::uint64_t length) override {
    return inner_.get_range(name, offset, length);
  }
  util::Result<storage::ObjectInfo> stat(std::string_view name) override {
    return inner_.stat(name);
  }
  util::Status list(std::string_view prefix,
                    const std::function<util::Status(const storage::ObjectInfo&)>& fn) override {
    return inner_.list(prefix, fn);
  }
  util::Status remove(std::string_view name) override { return inner_.remove(name); }

 private:
  storage::LocalBackend inner_;
  const bool& failing_;
};

}  // namespace

TEST_CASE("blobs: a pack that could not be written is forgotten") {
  test::RepoFixture f;
  bool failing = false;
  auto opened = repo::Repository::open(std::make_unique<FlakyBackend>(f.store(), failing),
                                       test::passphrase(test::RepoFixture::kPass), f.catalog());
  REQUIRE(opened.ok());
  auto& r = **opened;
  auto data = test::noise(1000, 5);
  auto id = save(r, data);
  failing = true;
  auto flushed = r.flush();
  REQUIRE_FALSE(flushed.ok());
  CHECK(flushed.error().kind == ErrorKind::transient);
  CHECK_FALSE(r.has_blob(id));

  failing = false;
  auto again = r.save_blob(BlobType::data, data, id);
  REQUIRE(again.ok());
  CHECK(*again);  // stored anew, not taken for known
  REQUIRE(r.flush().ok());
  CHECK(load(r, id) == data);
}

TEST_CASE("blobs: a blob above the decompression limit stays readable") {
  test::RepoFixture f;
  auto r = f.open();
  util::Bytes zeros(compress::max_raw_size + 1, 0);
  auto id = save(*r, zeros);
  REQUIRE(r->flush().ok());
  // Stored as is (codec none), although zstd would shrink it to nothing.
  CHECK(r->write_stats().stored_bytes_new == zeros.size() + 1 + repo::envelope_overhead);
  auto loaded = load(*r, id);
  CHECK(loaded.size() == zeros.size());
  CHECK(loaded == zeros);
}
