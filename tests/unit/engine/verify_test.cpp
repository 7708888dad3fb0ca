// verify_repository: structure checks, read-data checks, damage attributed
// to exactly the snapshots that suffer, subsets, and what is not damage.
#include <algorithm>
#include <fstream>
#include <set>

#include "engine/tree_walk.hpp"
#include "engine/verify.hpp"
#include "engine_fixture.hpp"

using namespace bkp;
using namespace bkp::test;
using engine::ReadData;

namespace {

struct Repo {
  RepoFixture f{small_options()};
  fs::path a, b;
  repo::Snapshot sa, sb, sb2;

  Repo() {
    a = f.root() / "a";
    b = f.root() / "b";
    fs::create_directories(a);
    fs::create_directories(b);
    write_file(a / "file", random_bytes(200 * 1024, 1));
    write_file(b / "file", random_bytes(200 * 1024, 2));
    sa = f.backup({a}).snapshot;
    sb = f.backup({b}).snapshot;
    write_file(b / "more", "a small new file");
    sb2 = f.backup({b}).snapshot;  // incremental: shares b/file's chunks
  }

  engine::VerifyReport verify(ReadData read = ReadData::none, std::uint64_t read_window = 4 << 20) {
    engine::VerifyOptions o;
    o.read_data = read;
    o.read_window = read_window;
    auto r = engine::verify_repository(f.repo(), o);
    REQUIRE_OK(r);
    return std::move(r).value();
  }

  std::vector<std::string> data_packs(const repo::Snapshot& s, const fs::path& file) {
    return packs_of(f.repo(), chunks_of(f.repo(), s, file.string()));
  }
};

bool mentions(const std::vector<std::string>& lines, const std::string& s) {
  for (auto& l : lines) {
    if (l.find(s) != std::string::npos) return true;
  }
  return false;
}

std::string all(const std::vector<std::string>& lines) {
  std::string out;
  for (auto& l : lines) out += l + "\n";
  return out;
}

}  // namespace

TEST_CASE("a clean repository verifies", "[verify]") {
  Repo r;
  auto packs = r.f.objects("data/");
  REQUIRE(packs.size() >= 8);  // 400 KiB in 64 KiB packs, plus tree packs

  auto structure = r.verify();
  INFO(all(structure.problems));
  CHECK(structure.ok());
  CHECK(structure.notes.empty());
  CHECK(structure.damaged_snapshots.empty());
  CHECK(structure.snapshots == 3);
  CHECK(structure.trees >= 3);
  CHECK(structure.blobs_referenced > 20);
  CHECK(structure.packs == packs.size());
  CHECK(structure.packs_read == 0);

  std::uint64_t calls = 0, last_bytes = 0;
  engine::VerifyOptions o;
  o.read_data = ReadData::all;
  // Every byte of every pack read once, whatever the window.
  o.read_window = GENERATE(std::uint64_t{4} << 20, std::uint64_t{1}, std::uint64_t{30000});
  auto full = engine::verify_repository(r.f.repo(), o, [&](std::uint64_t bytes, std::uint64_t) {
    ++calls;
    last_bytes = bytes;
  });
  REQUIRE_OK(full);
  INFO(all(full->problems));
  CHECK(full->ok());
  CHECK(full->packs_read == packs.size());
  std::uint64_t total = 0;
  for (auto& p : packs) total += fs::file_size(r.f.storage() / p);
  CHECK(full->bytes_read == total);
  CHECK(last_bytes == total);
  CHECK(calls == packs.size());
  CHECK(full->blobs_read > 20);

  SECTION("only the snapshots asked for") {
    engine::VerifyOptions one;
    one.snapshot_ids = {r.sa.id};
    auto v = engine::verify_repository(r.f.repo(), one);
    REQUIRE_OK(v);
    CHECK(v->ok());
    CHECK(v->snapshots == 1);
  }
}

TEST_CASE("a missing pack damages exactly the snapshots that use it", "[verify]") {
  Repo r;
  auto packs = r.data_packs(r.sb, r.b / "file");
  REQUIRE(packs.size() >= 2);
  fs::remove(r.f.storage() / packs[1]);

  auto v = r.verify();
  INFO(all(v.problems));
  CHECK_FALSE(v.ok());
  CHECK(mentions(v.problems, "pack '" + packs[1] + "' is missing"));
  CHECK(v.damaged_snapshots == std::set<std::string>{r.sb.id, r.sb2.id});

  SECTION("also with read-data") {
    auto rd = r.verify(ReadData::all);
    CHECK(mentions(rd.problems, packs[1]));
    CHECK(rd.damaged_snapshots == std::set<std::string>{r.sb.id, r.sb2.id});
  }

  SECTION("a missing snapshot named explicitly") {
    engine::VerifyOptions o;
    o.snapshot_ids = {r.sa.id, std::string(64, 'a')};
    auto w = engine::verify_repository(r.f.repo(), o);
    REQUIRE_OK(w);
    CHECK(mentions(w->problems, "snapshot " + std::string(64, 'a')));
    CHECK(w->damaged_snapshots == std::set<std::string>{std::string(64, 'a')});
  }
}

TEST_CASE("a flipped byte is found only by reading the data", "[verify]") {
  Repo r;
  // Packs read whole, and in windows of one blob or a few.
  auto window = GENERATE(std::uint64_t{4} << 20, std::uint64_t{1}, std::uint64_t{100000});
  auto packs = r.data_packs(r.sa, r.a / "file");
  REQUIRE(!packs.empty());
  flip_byte(r.f.storage() / packs[0], 100);  // inside the first blob

  auto structure = r.verify();
  INFO(all(structure.problems));
  CHECK(structure.ok());

  auto rd = r.verify(ReadData::all, window);
  CHECK_FALSE(rd.ok());
  CHECK(mentions(rd.problems, "pack '" + packs[0] + "' does not match its hash"));
  CHECK(mentions(rd.problems, "is damaged"));
  CHECK(rd.damaged_snapshots == std::set<std::string>{r.sa.id});

  SECTION("in the pack header") {
    auto other = r.data_packs(r.sb, r.b / "file");
    auto size = fs::file_size(r.f.storage() / other[0]);
    flip_byte(r.f.storage() / other[0], static_cast<std::streamoff>(size) - 20);
    auto v = r.verify(ReadData::all, window);
    CHECK(mentions(v.problems, "pack '" + other[0] + "' header"));
    CHECK(v.damaged_snapshots == std::set<std::string>{r.sa.id});  // blobs still intact
  }
}

TEST_CASE("verify reads trees from storage, not from the tree cache", "[verify]") {
  Repo r;
  fs::path cache = r.f.root() / "trees";
  r.f.repo().set_tree_cache(cache);
  // Every tree read once: all of them are in the cache now.
  for (auto* s : {&r.sa, &r.sb, &r.sb2}) {
    REQUIRE_OK(engine::walk_tree(r.f.repo(), s->tree, engine::TreeVisitor{[](auto&, auto&) {
                                   return util::Result<engine::Descend>(engine::Descend::yes);
                                 }}));
  }
  std::set<std::string> data;
  for (auto& p : r.data_packs(r.sa, r.a / "file")) data.insert(p);
  for (auto& p : r.data_packs(r.sb2, r.b / "file")) data.insert(p);
  for (auto& p : r.data_packs(r.sb2, r.b / "more")) data.insert(p);
  for (auto& p : r.f.objects("data/"))
    if (!data.count(p)) flip_byte(r.f.storage() / p, 60);
  auto v = r.verify();
  CHECK_FALSE(v.ok());
  CHECK(v.damaged_snapshots == std::set<std::string>{r.sa.id, r.sb.id, r.sb2.id});
  // Restore and the rest still use the cache afterwards.
  REQUIRE(r.f.repo().tree_cache() != nullptr);
  CHECK(r.f.repo().tree_cache()->dir() == cache);
}

TEST_CASE("damaged trees and a truncated pack", "[verify]") {
  Repo r;

  SECTION("a damaged tree blob is found by the structure check") {
    // Packs of tree blobs: those holding no data chunk of any snapshot.
    std::set<std::string> data;
    for (auto& p : r.data_packs(r.sa, r.a / "file")) data.insert(p);
    for (auto& p : r.data_packs(r.sb2, r.b / "file")) data.insert(p);
    for (auto& p : r.data_packs(r.sb2, r.b / "more")) data.insert(p);
    std::vector<std::string> trees;
    for (auto& p : r.f.objects("data/")) {
      if (!data.count(p)) trees.push_back(p);
    }
    REQUIRE(trees.size() == 3);  // one per backup
    r.f.reopen();                // no cached plaintext
    for (auto& t : trees) flip_byte(r.f.storage() / t, 60);
    auto v = r.verify();
    CHECK_FALSE(v.ok());
    CHECK(v.damaged_snapshots == std::set<std::string>{r.sa.id, r.sb.id, r.sb2.id});
  }

  SECTION("a truncated pack") {
    auto packs = r.data_packs(r.sa, r.a / "file");
    fs::resize_file(r.f.storage() / packs[0], 50);
    auto v = r.verify();
    CHECK(mentions(v.problems, "lies beyond the end of pack '" + packs[0] + "'"));
    CHECK(v.damaged_snapshots == std::set<std::string>{r.sa.id});
    for (std::uint64_t window : {std::uint64_t{1}, std::uint64_t{4} << 20}) {
      auto rd = r.verify(ReadData::all, window);
      CHECK(mentions(rd.problems, "pack '" + packs[0] + "' has no valid header"));
    }
  }

  SECTION("a pack holding another pack's bytes") {
    auto packs = r.data_packs(r.sb, r.b / "file");
    REQUIRE(packs.size() >= 2);
    fs::copy_file(r.f.storage() / packs[0], r.f.storage() / packs[1],
                  fs::copy_options::overwrite_existing);
    auto v = r.verify(ReadData::all);
    CHECK(mentions(v.problems, "pack '" + packs[1] + "' does not match its hash"));
    CHECK(mentions(v.problems, "index and header of pack '" + packs[1] + "' disagree"));
    CHECK(v.damaged_snapshots == std::set<std::string>{r.sb.id, r.sb2.id});
  }

  SECTION("a damaged snapshot manifest") {
    flip_byte(r.f.storage() / "snapshots" / r.sb.id, 40);
    auto v = r.verify();
    CHECK(mentions(v.problems, "snapshot " + r.sb.id));
    CHECK(v.damaged_snapshots == std::set<std::string>{r.sb.id});
  }

  SECTION("a blob the index lost") {
    auto packs = r.data_packs(r.sb, r.b / "file");
    auto id = repo::parse_pack_name(packs[0]);
    REQUIRE(id.has_value());
    REQUIRE_OK(r.f.repo().catalog().remove_pack(*id));
    auto v = r.verify();
    CHECK(mentions(v.problems, "is referenced but in no index"));
    CHECK(mentions(v.notes, "pack '" + packs[0] + "' is not referenced by any index"));
    CHECK(v.damaged_snapshots == std::set<std::string>{r.sb.id, r.sb2.id});
  }
}

TEST_CASE("read-data subsets", "[verify]") {
  Repo r;
  const auto total = r.f.objects("data/").size();

  SECTION("n/m covers every pack once across m runs") {
    for (unsigned m : {1u, 2u, 3u, 5u}) {
      std::uint64_t read = 0;
      for (unsigned n = 1; n <= m; ++n) {
        engine::VerifyOptions o;
        REQUIRE_OK(engine::parse_subset(std::to_string(n) + "/" + std::to_string(m), o));
        auto v = engine::verify_repository(r.f.repo(), o);
        REQUIRE_OK(v);
        CHECK(v->ok());
        if (m > 1) CHECK(v->packs_read < total);
        read += v->packs_read;
      }
      INFO("m = " << m);
      CHECK(read == total);
    }
  }

  SECTION("a damaged pack is found by exactly one part") {
    auto packs = r.data_packs(r.sa, r.a / "file");
    flip_byte(r.f.storage() / packs[0], 100);
    int found = 0;
    for (unsigned n = 1; n <= 4; ++n) {
      engine::VerifyOptions o;
      REQUIRE_OK(engine::parse_subset(std::to_string(n) + "/4", o));
      auto v = engine::verify_repository(r.f.repo(), o);
      REQUIRE_OK(v);
      if (!v->ok()) ++found;
    }
    CHECK(found == 1);
  }

  SECTION("percentages") {
    engine::VerifyOptions o;
    REQUIRE_OK(engine::parse_subset("100%", o));
    auto v = engine::verify_repository(r.f.repo(), o);
    REQUIRE_OK(v);
    CHECK(v->packs_read == total);
    REQUIRE_OK(engine::parse_subset("0.001%", o));
    auto few = engine::verify_repository(r.f.repo(), o);
    REQUIRE_OK(few);
    CHECK(few->packs_read < total);
  }
}

TEST_CASE("parse_subset", "[verify]") {
  for (auto good : {"10%", "100%", "0.5%", "1/1", "2/3", "5/5"}) {
    engine::VerifyOptions o;
    INFO(good);
    CHECK(engine::parse_subset(good, o).ok());
    CHECK(o.read_data == ReadData::subset);
  }
  engine::VerifyOptions o;
  REQUIRE_OK(engine::parse_subset("2/7", o));
  CHECK(o.part_n == 2);
  CHECK(o.part_m == 7);
  REQUIRE_OK(engine::parse_subset("12.5%", o));
  CHECK(o.percent == 12.5);
  for (auto bad : {"0%", "101%", "-5%", "abc", "%", "0/3", "4/3", "1/0", "1/", "/3", "1/-3", "x/3",
                   "1x/3", "10x%", "", "nan%", " 5%", "1/3/5"}) {
    engine::VerifyOptions b;
    INFO(bad);
    auto st = engine::parse_subset(bad, b);
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().kind == util::ErrorKind::usage);
  }
}

TEST_CASE("leftovers of an interrupted backup are notes, not problems", "[verify]") {
  Repo r;
  // A backup that wrote a pack and died before its index segment: here
  // the segment is written and then removed, and the catalog rebuilt.
  const auto before = r.f.objects("data/");
  const auto index_before = r.f.objects("index/");
  auto data = random_bytes(100 * 1024, 99);
  auto id = r.f.repo().blob_id(data);
  REQUIRE_OK(r.f.repo().save_blob(repo::BlobType::data, data, id));
  REQUIRE_OK(r.f.repo().flush());
  for (auto& name : r.f.objects("index/")) {
    if (std::find(index_before.begin(), index_before.end(), name) == index_before.end()) {
      fs::remove(r.f.storage() / name);
    }
  }
  r.f.reopen(true);
  REQUIRE_OK(r.f.repo().sync_catalog());
  auto after = r.f.objects("data/");
  REQUIRE(after.size() == before.size() + 1);
  std::string orphan;
  for (auto& p : after) {
    if (std::find(before.begin(), before.end(), p) == before.end()) orphan = p;
  }
  // And something that is not a pack at all.
  fs::create_directories(r.f.storage() / "data" / "zz");
  write_file(r.f.storage() / "data" / "zz" / "stray", "stray");

  auto v = r.verify(ReadData::all);
  INFO(all(v.problems));
  CHECK(v.ok());
  CHECK(mentions(v.notes, "pack '" + orphan + "' is not referenced by any index"));
  CHECK(mentions(v.notes, "unexpected object 'data/zz/stray'"));
  CHECK(v.damaged_snapshots.empty());

  // The next backup works and verifies clean.
  write_file(r.a / "later", "later");
  r.f.backup({r.a});
  auto again = r.verify(ReadData::all);
  CHECK(again.ok());
}
