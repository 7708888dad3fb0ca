// Copying snapshots between two repositories with different keys (lib/
// engine/copy.cpp), comparing a replica with its primary (replica_check),
// and the storage usage figures (storage_usage).
#include <catch2/catch.hpp>

#include "engine/copy.hpp"
#include "engine/replica_check.hpp"
#include "engine/storage_usage.hpp"
#include "engine_fixture.hpp"

using namespace bkp;
using namespace bkp::test;

namespace {

struct TwoRepos {
  RepoFixture a{small_options()}, b{small_options()};
  TempDir src_dir;
  fs::path src = src_dir.path() / "src";

  TwoRepos() {
    fs::create_directories(src / "dir");
    write_file(src / "one.bin", random_bytes(300 << 10, 1));
    write_file(src / "dir/two.txt", std::string("hello\n"));
    write_file(src / "dir/copy-of-one.bin", random_bytes(300 << 10, 1));
  }
};

}  // namespace

TEST_CASE("copy: different keys, bit-for-bit restore, nothing twice", "[engine][copy]") {
  TwoRepos t;
  auto first = t.a.backup({t.src});
  write_file(t.src / "dir/two.txt", std::string("changed\n"));
  auto second = t.a.backup({t.src});

  auto report = engine::copy_snapshots(t.a.repo(), t.b.repo(), {});
  REQUIRE_OK(report);
  CHECK_FALSE(report->same_chunk_ids);
  REQUIRE(report->snapshots.size() == 2);
  CHECK(report->snapshots[0].id == first.snapshot.id);
  CHECK(report->copied() == 2);
  REQUIRE_OK(t.b.repo().sync_catalog());

  auto copied = t.b.repo().load_snapshot(second.snapshot.id);
  REQUIRE_OK(copied);
  CHECK(copied->tree != second.snapshot.tree);  // other chunk-id key, other ids
  CHECK(copied->extra["copied_from"]["repository"] == t.a.repo().config().id);
  auto out = t.b.root() / "out";
  t.b.restore(*copied, out);
  CHECK(fmt_diffs(compare_trees(t.src, under(out, t.src))) == "");

  auto rc = engine::compare_replica(t.a.repo(), t.b.repo());
  REQUIRE_OK(rc);
  CHECK(rc->ok());
  CHECK(rc->snapshots == 2);

  auto again = engine::copy_snapshots(t.a.repo(), t.b.repo(), {});
  REQUIRE_OK(again);
  CHECK(again->copied() == 0);
  CHECK(again->skipped() == 2);
  CHECK(again->blobs_read == 0);

  // Copying a repository into itself is refused.
  auto self = engine::copy_snapshots(t.a.repo(), t.a.repo(), {});
  REQUIRE_FALSE(self.ok());
  CHECK(self.error().kind == util::ErrorKind::usage);
}

TEST_CASE("replica check: a missing snapshot and different content", "[engine][copy]") {
  TwoRepos t;
  auto first = t.a.backup({t.src});
  REQUIRE_OK(engine::copy_snapshots(t.a.repo(), t.b.repo(), {}));
  auto second = t.a.backup({t.src});

  auto rc = engine::compare_replica(t.a.repo(), t.b.repo());
  REQUIRE_OK(rc);
  CHECK_FALSE(rc->ok());
  CHECK(rc->missing == std::vector<std::string>{second.snapshot.id});

  // Replace the replica's copy of the first snapshot by one whose tree has
  // other content under the same id.
  write_file(t.src / "one.bin", random_bytes(300 << 10, 99));
  auto other = t.b.backup({t.src});
  auto forged = t.b.repo().load_snapshot(first.snapshot.id);
  REQUIRE_OK(forged);
  forged->tree = other.snapshot.tree;
  fs::remove(t.b.storage() / "snapshots" / first.snapshot.id);
  REQUIRE_OK(t.b.repo().save_snapshot(*forged));
  REQUIRE_OK(engine::copy_snapshots(t.a.repo(), t.b.repo(), {}));

  rc = engine::compare_replica(t.a.repo(), t.b.repo());
  REQUIRE_OK(rc);
  CHECK(rc->missing.empty());
  REQUIRE(rc->differences.size() == 1);
  INFO(rc->differences[0]);
  // The first entry that differs: one.bin (content and mtime), or a
  // directory above it whose times moved.
  CHECK(rc->differences[0].find(first.snapshot.id + ": /") == 0);
  CHECK(rc->extra == std::vector<std::string>{other.snapshot.id});
}

TEST_CASE("storage usage: object types and growth", "[engine][storage]") {
  CHECK(engine::object_type("data/ab/" + std::string(64, 'a')) == "packs");
  CHECK(engine::object_type("index/x") == "index");
  CHECK(engine::object_type("snapshots/x") == "snapshots");
  CHECK(engine::object_type("wal/00000001/x") == "wal");
  CHECK(engine::object_type("config") == "config");
  CHECK(engine::object_type("stray") == "other");
  CHECK(engine::object_type("tmp/x") == "other");

  RepoFixture r;
  TempDir d;
  write_file(d.path() / "f", random_bytes(100 << 10, 3));
  r.backup({d.path()});
  auto u = engine::storage_usage(r.repo().backend());
  REQUIRE_OK(u);
  CHECK(u->by_type["snapshots"].objects == 1);
  CHECK(u->by_type["config"].objects == 1);
  CHECK(u->by_type["packs"].bytes > 100 << 10);
  std::uint64_t sum = 0;
  for (auto& [t, c] : u->by_type) sum += c.bytes;
  CHECK(sum == u->total.bytes);

  std::vector<catalog::BackupRow> rows(4);
  rows[0].created_at = "2026-11-23T10:00:00Z";  // Monday of ISO week 48
  rows[1].created_at = "2026-11-29T23:00:00Z";  // Sunday, same week
  rows[2].created_at = "2026-11-30T01:00:00Z";  // week 49
  rows[3].created_at = "2026-11-30T02:00:00Z";
  for (std::size_t i = 0; i < rows.size(); ++i) {
    rows[i].status = "completed";
    rows[i].size_bytes = 1000;
    rows[i].compressed_size_bytes = static_cast<std::int64_t>(10 * (i + 1));
  }
  rows[3].status = "failed";  // not counted
  auto weeks = engine::backup_growth(rows, engine::Period::week);
  REQUIRE(weeks.size() == 2);
  CHECK(weeks[0].period == "2026-W48");
  CHECK(weeks[0].backups == 2);
  CHECK(weeks[0].stored_bytes == 30);
  CHECK(weeks[1].period == "2026-W49");
  CHECK(weeks[1].stored_bytes == 30);
  CHECK(weeks[1].stored_total == 60);
  auto days = engine::backup_growth(rows, engine::Period::day);
  CHECK(days.size() == 3);
  CHECK(engine::backup_growth(rows, engine::Period::month).size() == 1);
  CHECK_FALSE(engine::parse_period("year").ok());
}
