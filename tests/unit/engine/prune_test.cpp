// Prune planning and the two phases on a real local repository: which packs
// are marked, repacked, deleted or kept, and what a concurrent backup sees.
#include <set>

#include "engine/prune.hpp"
#include "engine/snapshots.hpp"
#include "engine/verify.hpp"
#include "engine_fixture.hpp"
#include "util/time.hpp"

using namespace bkp;
using namespace bkp::test;

namespace {

std::uint64_t bytes_under(const fs::path& dir) {
  std::uint64_t n = 0;
  for (auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file()) n += e.file_size();
  return n;
}

void verify_clean(repo::Repository& repo) {
  engine::VerifyOptions o;
  o.read_data = engine::ReadData::all;
  auto r = engine::verify_repository(repo, o);
  REQUIRE_OK(r);
  INFO((r->problems.empty() ? "" : r->problems.front()));
  CHECK(r->ok());
}

}  // namespace

TEST_CASE("prune plans nothing on a repository without garbage", "[prune]") {
  RepoFixture f(small_options());
  fs::create_directories(f.root() / "src");
  write_file(f.root() / "src/a", random_bytes(200'000, 1));
  f.backup({f.root() / "src"});
  engine::PruneOptions o;
  o.grace_ns = 0;
  auto plan = engine::prune_repository(f.repo(), o);
  REQUIRE_OK(plan);
  CHECK(plan->mark.empty());
  CHECK(plan->repack.empty());
  CHECK(plan->delete_now.empty());
  CHECK(plan->forget.empty());
  CHECK(f.objects("prune/").empty());
}

TEST_CASE("prune marks unused packs, deletes them after the grace period", "[prune]") {
  RepoFixture f(small_options());
  fs::create_directories(f.root() / "src");
  write_file(f.root() / "src/a", random_bytes(300'000, 1));
  auto first = f.backup({f.root() / "src"}).snapshot;
  fs::remove(f.root() / "src/a");
  write_file(f.root() / "src/b", random_bytes(300'000, 2));
  auto second = f.backup({f.root() / "src"}).snapshot;
  REQUIRE_OK(engine::forget_snapshots(f.repo(), {first.id}, engine::DryRun::no));

  auto packs_before = f.objects("data/");
  engine::PruneOptions o;
  o.grace_ns = 3600LL * 1'000'000'000;  // an hour: nothing is deleted now
  o.dry_run = engine::DryRun::yes;
  auto dry = engine::prune_repository(f.repo(), o);
  REQUIRE_OK(dry);
  CHECK(!dry->mark.empty());
  CHECK(dry->delete_now.empty());
  CHECK(f.objects("prune/").empty());  // a dry run writes nothing

  o.dry_run = engine::DryRun::no;
  auto plan = engine::prune_repository(f.repo(), o);
  REQUIRE_OK(plan);
  CHECK(plan->mark.size() == dry->mark.size());
  CHECK(f.objects("prune/").size() == 1);
  CHECK(f.objects("data/") == packs_before);  // marked, not deleted

  // Marked blobs are no longer offered for deduplication...
  std::set<repo::PackId> marked;
  for (auto& p : plan->mark) marked.insert(p.id);
  std::uint64_t condemned = 0;
  REQUIRE_OK(f.repo().catalog().for_each_blob([&](const repo::BlobLocation& loc) {
    if (marked.count(loc.pack)) {
      ++condemned;
      CHECK(!f.repo().has_blob(loc.id));
    }
    return util::Status{};
  }));
  CHECK(condemned > 0);
  // ...and a second run before the deadline deletes nothing.
  auto again = engine::prune_repository(f.repo(), o);
  REQUIRE_OK(again);
  CHECK(again->delete_now.empty());
  CHECK(again->mark.empty());  // already marked packs are not marked twice

  // After the deadline (here: a prune with no grace) they go.
  o.grace_ns = 0;
  auto done = engine::prune_repository(f.repo(), o);
  REQUIRE_OK(done);
  CHECK(f.objects("prune/").empty());
  CHECK(f.objects("data/").size() < packs_before.size());
  verify_clean(f.repo());
  auto restored = f.restore(second, f.root() / "out");
  CHECK(read_bytes(f.root() / "out" / f.root().relative_path() / "src/b") ==
        random_bytes(300'000, 2));
}

TEST_CASE("a marked pack that a new snapshot needs is kept", "[prune]") {
  RepoFixture f(small_options());
  fs::create_directories(f.root() / "src");
  write_file(f.root() / "src/a", random_bytes(200'000, 7));
  auto first = f.backup({f.root() / "src"}).snapshot;
  // A backup that read the catalog before the mark: it deduplicates
  // against the blobs prune is about to mark.
  REQUIRE_OK(f.repo().sync_catalog());
  REQUIRE_OK(engine::forget_snapshots(f.repo(), {first.id}, engine::DryRun::no));
  engine::PruneOptions o;
  o.grace_ns = 3600LL * 1'000'000'000;
  auto plan = engine::prune_repository(f.repo(), o);
  REQUIRE_OK(plan);
  REQUIRE(!plan->mark.empty());
  // The same tree again, written as if by that older backup: a snapshot
  // naming blobs that now live only in marked packs.
  repo::Snapshot again = first;
  again.id = repo::new_snapshot_id();
  REQUIRE_OK(f.repo().save_snapshot(again));  // before the deadline: allowed
  o.grace_ns = 0;
  auto done = engine::prune_repository(f.repo(), o);
  REQUIRE_OK(done);
  CHECK(!done->kept_marked.empty());
  verify_clean(f.repo());
  f.restore(again, f.root() / "out");
  CHECK(read_bytes(f.root() / "out" / f.root().relative_path() / "src/a") ==
        random_bytes(200'000, 7));
}

TEST_CASE("a snapshot is refused once a mark it did not know is past its deadline", "[prune]") {
  RepoFixture f(small_options());
  fs::create_directories(f.root() / "src");
  write_file(f.root() / "src/a", random_bytes(100'000, 3));
  f.backup({f.root() / "src"});
  REQUIRE_OK(f.repo().load_prune_state());  // this "backup" knows no mark
  repo::PruneMark mark;
  mark.created = util::format_rfc3339(util::now_ns() - 10'000'000'000LL);
  mark.delete_after = util::format_rfc3339(util::now_ns() - 1'000'000'000LL);
  // A mark that names only WAL entries deletes nothing a backup reuses.
  mark.wal = {"wal/00000001/000000010000000000000001"};
  REQUIRE_OK(f.repo().write_prune_mark(mark));
  CHECK(f.repo().check_prune_deadline().ok());
  mark.packs.push_back(repo::PackId{});
  REQUIRE_OK(f.repo().write_prune_mark(mark));
  auto st = f.repo().check_prune_deadline();
  REQUIRE(!st);
  CHECK(st.error().message.find("grace period") != std::string::npos);
  // A mark it knew (read after the mark was written) does not stop it.
  REQUIRE_OK(f.repo().load_prune_state());
  CHECK(f.repo().check_prune_deadline().ok());
}

TEST_CASE("prune repacks partly unused packs and frees their space", "[prune]") {
  auto opts = small_options();
  opts.pack_size = 1u << 20;  // one pack holds both files
  RepoFixture f(opts);
  fs::create_directories(f.root() / "src");
  write_file(f.root() / "src/keep", random_bytes(150'000, 11));
  write_file(f.root() / "src/drop", random_bytes(450'000, 12));
  auto first = f.backup({f.root() / "src"}).snapshot;
  fs::remove(f.root() / "src/drop");
  auto second = f.backup({f.root() / "src"}).snapshot;
  REQUIRE_OK(engine::forget_snapshots(f.repo(), {first.id}, engine::DryRun::no));
  auto before = bytes_under(f.storage() / "data");

  engine::PruneOptions o;
  o.grace_ns = 0;
  o.max_repack_size = 1;  // too small for any pack's live data
  auto none = engine::prune_repository(f.repo(), o);
  REQUIRE_OK(none);
  CHECK(none->repack.empty());

  o.max_repack_size = UINT64_MAX;
  o.repack_threshold = 50;
  auto plan = engine::prune_repository(f.repo(), o);
  REQUIRE_OK(plan);
  REQUIRE(plan->repack.size() == 1);
  CHECK(plan->bytes_repacked >= 150'000);
  CHECK(plan->bytes_repacked < 200'000);
  CHECK(bytes_under(f.storage() / "data") < before - 400'000);
  verify_clean(f.repo());
  f.reopen(true);  // a fresh catalog finds the copies
  REQUIRE_OK(f.repo().sync_catalog());
  f.restore(second, f.root() / "out");
  CHECK(read_bytes(f.root() / "out" / f.root().relative_path() / "src/keep") ==
        random_bytes(150'000, 11));
}

TEST_CASE("forget refuses a held snapshot and prune keeps it", "[prune]") {
  RepoFixture f(small_options());
  fs::create_directories(f.root() / "src");
  write_file(f.root() / "src/a", random_bytes(50'000, 5));
  auto first = f.backup({f.root() / "src"}).snapshot;
  write_file(f.root() / "src/b", random_bytes(50'000, 6));
  f.backup({f.root() / "src"});
  repo::Hold hold;
  hold.snapshot = first.id;
  hold.reason = "case 42";
  REQUIRE_OK(f.repo().put_hold(hold));
  auto refused = engine::forget_snapshots(f.repo(), {first.id}, engine::DryRun::no);
  REQUIRE(!refused);
  CHECK(refused.error().message.find("legal hold") != std::string::npos);
  engine::PruneOptions o;
  o.policy.last = 1;
  o.grace_ns = 0;
  auto plan = engine::prune_repository(f.repo(), o);
  REQUIRE_OK(plan);
  CHECK(plan->forget.empty());
  CHECK(f.objects("snapshots/").size() == 2);
  // The hold survives a lost catalog.
  f.reopen(true);
  REQUIRE_OK(f.repo().sync_catalog());
  auto row = f.repo().catalog().get_backup(first.id);
  REQUIRE_OK(row);
  REQUIRE(row->has_value());
  CHECK((*row)->retention_until == "9999-12-31T23:59:59Z");
  REQUIRE_OK(f.repo().remove_hold(first.id));
  CHECK(!f.repo().remove_hold(first.id));  // not held any more
  auto gone = engine::prune_repository(f.repo(), o);
  REQUIRE_OK(gone);
  CHECK(gone->forget == std::vector<std::string>{first.id});
}
