// BlobPrefetcher (chunks decoded ahead on worker threads, handed back in
// order) and the parallel restore built on it.
#include <sys/stat.h>
#include <unistd.h>

#include "engine/blob_prefetch.hpp"
#include "engine_fixture.hpp"
#include "repo/pack.hpp"

using namespace bkp;
using namespace bkp::test;

namespace {

struct StoredBlobs {
  std::vector<util::Bytes> data;
  std::vector<repo::BlobLocation> locs;
};

// `n` blobs of 1 byte to ~300 KiB, stored and flushed.
StoredBlobs store_blobs(repo::Repository& repo, std::size_t n) {
  StoredBlobs s;
  for (std::size_t i = 0; i < n; ++i) {
    auto d = random_bytes(1 + (i * 7919) % (300 << 10), i + 1);
    auto id = repo.blob_id(d);
    REQUIRE_OK(repo.save_blob(repo::BlobType::data, d, id));
    s.data.push_back(std::move(d));
  }
  REQUIRE_OK(repo.flush());
  for (auto& d : s.data) {
    auto loc = repo.locate_blob(repo.blob_id(d));
    REQUIRE_OK(loc);
    s.locs.push_back(*loc);
  }
  return s;
}

}  // namespace

TEST_CASE("the prefetcher hands blobs back in the order asked", "[prefetch]") {
  RepoFixture f(small_options());
  auto s = store_blobs(f.repo(), 120);
  // A bound smaller than most blobs: the oldest one is still always read.
  auto max_ahead = GENERATE(std::uint64_t{1}, std::uint64_t{64 << 10}, std::uint64_t{32 << 20});
  auto threads = GENERATE(1u, 3u);
  engine::BlobPrefetcher p(f.repo(), max_ahead, threads);
  std::size_t pushed = 0;
  for (std::size_t taken = 0; taken < s.locs.size(); ++taken) {
    // Pushes interleaved with takes, as restore does.
    for (; pushed < s.locs.size() && pushed < taken + 1 + taken % 17; ++pushed)
      p.push(s.locs[pushed]);
    auto got = p.next();
    REQUIRE_OK(got);
    REQUIRE(*got == s.data[taken]);
  }
  CHECK(p.queued() == 0);
  CHECK(p.queued_bytes() == 0);
}

TEST_CASE("a damaged blob fails alone in the prefetcher", "[prefetch]") {
  RepoFixture f(small_options());
  auto s = store_blobs(f.repo(), 30);
  auto& bad = s.locs[11];
  flip_byte(f.storage() / repo::pack_object_name(bad.pack), bad.offset + bad.length / 2);
  engine::BlobPrefetcher p(f.repo());
  for (auto& loc : s.locs) p.push(loc);
  for (std::size_t i = 0; i < s.locs.size(); ++i) {
    auto got = p.next();
    if (s.locs[i].pack == bad.pack && s.locs[i].offset == bad.offset) {
      REQUIRE_FALSE(got.ok());
      CHECK(got.error().kind == util::ErrorKind::verification);
    } else {
      REQUIRE_OK(got);
      CHECK(*got == s.data[i]);
    }
  }
}

TEST_CASE("the prefetcher can be dropped with work queued", "[prefetch]") {
  RepoFixture f(small_options());
  auto s = store_blobs(f.repo(), 40);
  engine::BlobPrefetcher p(f.repo(), 1 << 20, 2);
  for (auto& loc : s.locs) p.push(loc);
  REQUIRE_OK(p.next());
  // The destructor stops the workers with 39 blobs untaken.
}

TEST_CASE("parallel restore of many files in many directories", "[prefetch][restore]") {
  RepoFixture f(small_options());
  fs::path src = f.root() / "src";
  for (int d = 0; d < 30; ++d) {
    fs::path dir = src / ("d" + std::to_string(d)) / "sub";
    fs::create_directories(dir);
    for (int i = 0; i < 25; ++i) {
      auto size = static_cast<std::size_t>((d * 25 + i) * 613 % 9000);
      write_file(dir / ("f" + std::to_string(i)), random_bytes(size, d * 100 + i));
    }
    write_file(dir / "big", random_bytes(300 << 10, d));
    // A read-only directory gets its mode only once its files are written.
    fs::permissions(dir, fs::perms::owner_read | fs::perms::owner_exec);
  }
  REQUIRE(::link((src / "d3" / "sub" / "big").c_str(), (src / "d1" / "hardlink").c_str()) == 0);
  write_file(src / "empty", std::string());
  auto snap = f.backup({src}).snapshot;
  auto target = f.root() / "out";
  auto report = f.restore(snap, target);
  CHECK(report.files == 30 * 26 + 2);
  CHECK(fmt_diffs(compare_trees(src, under(target, src))).empty());
  for (int d = 0; d < 30; ++d) {
    fs::permissions(src / ("d" + std::to_string(d)) / "sub", fs::perms::owner_all);
    fs::permissions(under(target, src) / ("d" + std::to_string(d)) / "sub", fs::perms::owner_all);
  }
}

TEST_CASE("a hard link to a damaged file is reported, not made", "[prefetch][restore]") {
  RepoFixture f(small_options());
  fs::path src = f.root() / "src";
  fs::create_directories(src / "a");
  write_file(src / "a" / "first", random_bytes(200 << 10, 1));
  write_file(src / "a" / "intact", random_bytes(10 << 10, 2));
  REQUIRE(::link((src / "a" / "first").c_str(), (src / "second").c_str()) == 0);
  auto snap = f.backup({src}).snapshot;
  auto chunks = chunks_of(f.repo(), snap, (src / "a" / "first").string());
  auto loc = f.repo().locate_blob(chunks.front());
  REQUIRE_OK(loc);
  flip_byte(f.storage() / repo::pack_object_name(loc->pack), loc->offset + loc->length / 2);

  engine::RestoreOptions o;
  o.target = f.root() / "out";
  auto r = engine::restore_to_directory(f.repo(), snap, o);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind == util::ErrorKind::verification);
  CHECK_THAT(r.error().message, Catch::Contains("a/first") && Catch::Contains("second"));
  CHECK_FALSE(fs::exists(under(o.target, src / "a" / "first")));
  CHECK_FALSE(fs::exists(under(o.target, src / "second")));
  CHECK(read_bytes(under(o.target, src / "a" / "intact")) == random_bytes(10 << 10, 2));
}

namespace {

// Packs of 4 MiB, so that neighbouring blobs share one.
repo::InitOptions big_pack_options() {
  auto o = small_options();
  o.pack_size = 4 << 20;
  return o;
}

constexpr repo::ReadLimits kJoin{0, 1 << 20};

}  // namespace

TEST_CASE("the prefetcher joins a pack's neighbouring blobs into few reads", "[prefetch]") {
  RepoFixture f(big_pack_options());
  auto s = store_blobs(f.repo(), 120);  // about 18 MiB in 5 packs
  auto threads = GENERATE(1u, 4u);
  engine::BlobPrefetcher p(f.repo(), 32 << 20, threads, kJoin);
  for (auto& loc : s.locs) p.push(loc);
  for (std::size_t i = 0; i < s.locs.size(); ++i) {
    auto got = p.next();
    REQUIRE_OK(got);
    REQUIRE(*got == s.data[i]);
  }
  // Each read holds at least 1 MiB less the largest blob (300 KiB), about
  // five blobs of 150 KiB on average; one read per blob was 120.
  std::uint64_t stored = 0;
  for (auto& loc : s.locs) stored += loc.length;
  INFO(p.reads());
  CHECK(p.reads() <= 40);
  CHECK(p.reads() >= stored / kJoin.max_span);  // no request longer than the limit
}

TEST_CASE("the prefetcher waits for a request's worth, or for the taker", "[prefetch]") {
  RepoFixture f(big_pack_options());
  auto s = store_blobs(f.repo(), 6);  // 1 byte to 40 KiB, all in the first pack
  for (auto& loc : s.locs) REQUIRE(loc.pack == s.locs[0].pack);
  engine::BlobPrefetcher p(f.repo(), 32 << 20, 4, kJoin);
  for (auto& loc : s.locs) p.push(loc);
  // Less than max_span queued: nothing read until the first next(), which
  // gets all six in one request.
  for (std::size_t i = 0; i < s.locs.size(); ++i) {
    auto got = p.next();
    REQUIRE_OK(got);
    CHECK(*got == s.data[i]);
  }
  CHECK(p.reads() == 1);
}

TEST_CASE("a damaged blob fails alone in a joined read", "[prefetch]") {
  RepoFixture f(big_pack_options());
  auto s = store_blobs(f.repo(), 30);
  auto& bad = s.locs[11];
  flip_byte(f.storage() / repo::pack_object_name(bad.pack), bad.offset + bad.length / 2);
  engine::BlobPrefetcher p(f.repo(), 32 << 20, 2, kJoin);
  for (auto& loc : s.locs) p.push(loc);
  for (std::size_t i = 0; i < s.locs.size(); ++i) {
    auto got = p.next();
    if (i == 11) {
      REQUIRE_FALSE(got.ok());
      CHECK(got.error().kind == util::ErrorKind::verification);
    } else {
      REQUIRE_OK(got);
      CHECK(*got == s.data[i]);
    }
  }
  CHECK(p.reads() < 30);
}

TEST_CASE("a pack cut short loses only the blobs past the cut in a joined read", "[prefetch]") {
  RepoFixture f(big_pack_options());
  auto s = store_blobs(f.repo(), 12);  // one pack of about 500 KiB
  for (auto& loc : s.locs) REQUIRE(loc.pack == s.locs[0].pack);
  auto cut = s.locs[8].offset + s.locs[8].length / 2;
  fs::path pack = f.storage() / repo::pack_object_name(s.locs[0].pack);
  fs::permissions(pack, fs::perms::owner_read | fs::perms::owner_write);
  fs::resize_file(pack, cut);
  engine::BlobPrefetcher p(f.repo(), 32 << 20, 2, repo::ReadLimits{0, 64 << 20});
  for (auto& loc : s.locs) p.push(loc);
  for (std::size_t i = 0; i < s.locs.size(); ++i) {
    auto got = p.next();
    INFO(i);
    if (s.locs[i].offset + s.locs[i].length <= cut) {
      REQUIRE_OK(got);
      CHECK(*got == s.data[i]);
    } else {
      REQUIRE_FALSE(got.ok());
      CHECK(got.error().kind == util::ErrorKind::verification);
    }
  }
}
