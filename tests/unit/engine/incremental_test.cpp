// Incremental and differential backups: only changed files are read, the
// rest is referenced; deleted files disappear; every snapshot restores on
// its own.
#include <fcntl.h>
#include <unistd.h>

#include <fstream>

#include "engine/snapshots.hpp"
#include "engine/tree_walk.hpp"
#include "engine_fixture.hpp"
#include "util/subprocess.hpp"

using namespace bkp;
using namespace bkp::test;
using engine::BackupType;

namespace {

// Copies `src` with all its metadata, to compare a later restore with.
void copy_state(const fs::path& src, const fs::path& dst) {
  auto r = util::run_capture({"/bin/cp", "-a", src.string(), dst.string()});
  REQUIRE(r.ok());
  REQUIRE(r->status == 0);
}

struct Counted {
  engine::BackupReport report;
  std::uint64_t bytes_read = 0;
};

Counted backup(RepoFixture& f, const fs::path& src, BackupType type) {
  engine::FileBackupOptions o;
  o.paths = {src};
  o.type = type;
  Counted c;
  auto r = engine::backup_files(
      f.repo(), o, [&](const engine::BackupProgress& p) { c.bytes_read = p.bytes_read; });
  REQUIRE_OK(r);
  c.report = std::move(r).value();
  return c;
}

std::uint64_t stat_of(const repo::Snapshot& s, const char* key) {
  return s.stats.at(key).get<std::uint64_t>();
}

// Changes content and mtime (a new mtime even within one clock tick).
void change(const fs::path& p, const std::string& text) {
  auto before = mtime_of(p);
  write_file(p, text);
  set_mtime(p, before + 1'000'000'000);
}

}  // namespace

TEST_CASE("incremental and differential backups", "[backup][incremental]") {
  RepoFixture f;
  const fs::path src = f.root() / "src";
  fs::create_directories(src / "sub");
  write_file(src / "big.bin", random_bytes(9 << 20, 7));
  write_file(src / "keep.txt", "keep");
  write_file(src / "change.txt", "before");
  write_file(src / "delete.txt", "delete me");
  write_file(src / "sub" / "nested.txt", "nested");

  auto s1 = backup(f, src, BackupType::full);
  copy_state(src, f.root() / "state1");
  CHECK(s1.report.snapshot.backup_type == "full");
  CHECK(stat_of(s1.report.snapshot, "files_new") == 5);
  CHECK(s1.bytes_read == (9u << 20) + 4 + 6 + 9 + 6);

  // Second: one file changed, one deleted, one new.
  change(src / "change.txt", "after, and longer");
  fs::remove(src / "delete.txt");
  write_file(src / "new.txt", "new file");
  auto s2 = backup(f, src, BackupType::incremental);
  copy_state(src, f.root() / "state2");
  const auto& snap2 = s2.report.snapshot;
  CHECK(snap2.backup_type == "incremental");
  CHECK(snap2.parent == s1.report.snapshot.id);
  CHECK(stat_of(snap2, "files_unmodified") == 3);
  CHECK(stat_of(snap2, "files_changed") == 1);
  CHECK(stat_of(snap2, "files_new") == 1);
  CHECK(s2.bytes_read == 17 + 8);  // only the changed and the new file were read
  CHECK(stat_of(snap2, "raw_bytes_new") < 16 * 1024);  // two small files and trees
  CHECK(stat_of(snap2, "total_bytes") == (9u << 20) + 4 + 17 + 6 + 8);
  CHECK(chunks_of(f.repo(), snap2, (src / "big.bin").string()) ==
        chunks_of(f.repo(), s1.report.snapshot, (src / "big.bin").string()));
  auto gone = engine::find_node(f.repo(), snap2.tree, (src / "delete.txt").string());
  REQUIRE_FALSE(gone.ok());
  CHECK(gone.error().kind == util::ErrorKind::not_found);

  // Third, incremental against the second.
  change(src / "keep.txt", "kept no more");
  auto s3 = backup(f, src, BackupType::incremental);
  copy_state(src, f.root() / "state3");
  CHECK(s3.report.snapshot.parent == snap2.id);
  CHECK(stat_of(s3.report.snapshot, "files_changed") == 1);
  CHECK(stat_of(s3.report.snapshot, "files_unmodified") == 4);
  CHECK(s3.bytes_read == 12);

  // Differential: against the full, so everything changed since it is read.
  auto s4 = backup(f, src, BackupType::differential);
  const auto& snap4 = s4.report.snapshot;
  CHECK(snap4.backup_type == "differential");
  CHECK(snap4.parent == s1.report.snapshot.id);
  CHECK(stat_of(snap4, "files_changed") == 2);  // keep.txt and change.txt
  CHECK(stat_of(snap4, "files_new") == 1);      // new.txt
  CHECK(stat_of(snap4, "files_unmodified") == 2);
  CHECK(s4.bytes_read == 12 + 17 + 8);
  CHECK(stat_of(snap4, "raw_bytes_new") < 16 * 1024);

  // An explicit full reads everything again.
  auto s5 = backup(f, src, BackupType::full);
  CHECK(s5.report.snapshot.parent.empty());
  CHECK(stat_of(s5.report.snapshot, "files_new") == 5);
  CHECK(s5.bytes_read == (9u << 20) + 12 + 17 + 6 + 8);
  CHECK(stat_of(s5.report.snapshot, "raw_bytes_new") < 16 * 1024);  // data deduplicated

  // A differential after it compares with the newest full.
  auto s6 = backup(f, src, BackupType::differential);
  CHECK(s6.report.snapshot.parent == s5.report.snapshot.id);
  CHECK(s6.bytes_read == 0);

  SECTION("each snapshot restores on its own") {
    int i = 0;
    for (auto* s : {&s1, &s2, &s3, &s4}) {
      ++i;
      const fs::path target = f.root() / ("restore" + std::to_string(i));
      f.restore(s->report.snapshot, target);
      const fs::path state = f.root() / ("state" + std::to_string(i == 4 ? 3 : i));
      auto diffs = compare_trees(state, under(target, src));
      INFO("snapshot " << i << "\n" << fmt_diffs(diffs));
      CHECK(diffs.empty());
    }
    CHECK(read_text(under(f.root() / "restore1", src / "delete.txt")) == "delete me");
    CHECK_FALSE(fs::exists(under(f.root() / "restore2", src / "delete.txt")));
  }

  SECTION("the latest snapshot restores after the older ones are forgotten") {
    // Every snapshot references all its chunks: no chain to follow.
    for (auto* s : {&s1, &s2, &s3}) {
      fs::remove(f.storage() / "snapshots" / s->report.snapshot.id);
    }
    f.reopen(true);
    REQUIRE_OK(f.repo().sync_catalog());
    auto latest = engine::resolve_snapshot(f.repo(), "latest");
    REQUIRE_OK(latest);
    CHECK(latest->id == s6.report.snapshot.id);
    f.restore(*latest, f.root() / "restore-latest");
    CHECK(compare_trees(f.root() / "state3", under(f.root() / "restore-latest", src)).empty());
  }
}

TEST_CASE("parent selection", "[backup][incremental]") {
  RepoFixture f;
  const fs::path src = f.root() / "src";
  fs::create_directories(src);
  write_file(src / "a", "a");

  auto none = engine::find_parent(f.repo(), "any", BackupType::incremental);
  REQUIRE_OK(none);
  CHECK_FALSE(none->has_value());

  auto first = f.backup({src}, BackupType::incremental, {}, "mine");
  CHECK(first.snapshot.backup_type == "full");
  auto other = f.backup({src}, BackupType::full, {}, "theirs");

  SECTION("by source") {
    auto p = engine::find_parent(f.repo(), "mine", BackupType::incremental);
    REQUIRE_OK(p);
    REQUIRE(p->has_value());
    CHECK((*p)->id == first.snapshot.id);
    auto full = engine::find_parent(f.repo(), "mine", BackupType::full);
    REQUIRE_OK(full);
    CHECK_FALSE(full->has_value());
  }

  SECTION("failed or running rows are never parents") {
    catalog::BackupRow row;
    row.id = repo::new_snapshot_id();
    row.backup_type = "full";
    row.database_name = "mine";
    row.status = "failed";
    row.created_at = "2999-01-01T00:00:00.000000Z";
    REQUIRE_OK(f.repo().catalog().upsert_backup(row));
    auto p = engine::find_parent(f.repo(), "mine", BackupType::differential);
    REQUIRE_OK(p);
    REQUIRE(p->has_value());
    CHECK((*p)->id == first.snapshot.id);
  }

  SECTION("an incremental with a different source name starts over") {
    auto r = f.backup({src}, BackupType::incremental, {}, "new-name");
    CHECK(r.snapshot.backup_type == "full");
    CHECK(r.snapshot.stats["files_new"] == 1);
  }

  SECTION("backup type names") {
    for (auto t : {BackupType::full, BackupType::incremental, BackupType::differential}) {
      auto parsed = engine::parse_backup_type(engine::backup_type_name(t));
      REQUIRE(parsed.has_value());
      CHECK(*parsed == t);
    }
    CHECK_FALSE(engine::parse_backup_type("Full").has_value());
    CHECK_FALSE(engine::parse_backup_type("").has_value());
  }
}

TEST_CASE("an incremental backup stores again what the repository lost", "[backup][incremental]") {
  RepoFixture f;
  const fs::path src = f.root() / "src";
  fs::create_directories(src);
  write_file(src / "data", random_bytes(300 * 1024, 3));
  auto s1 = f.backup({src});
  auto chunks = chunks_of(f.repo(), s1.snapshot, (src / "data").string());
  auto packs = packs_of(f.repo(), chunks);
  REQUIRE(packs.size() == 1);
  // The pack went away (a prune gone wrong) and the catalog knows it.
  fs::remove(f.storage() / packs[0]);
  auto pack_id = repo::parse_pack_name(packs[0]);
  REQUIRE(pack_id.has_value());
  REQUIRE_OK(f.repo().catalog().remove_pack(*pack_id));

  auto s2 = f.backup({src});
  CHECK(s2.snapshot.stats["files_changed"] == 1);
  CHECK(s2.snapshot.stats["files_unmodified"] == 0);
  CHECK(s2.snapshot.stats["raw_bytes_new"].get<std::uint64_t>() >= 300 * 1024);
  f.restore(s2.snapshot, f.root() / "restore");
  CHECK(read_bytes(under(f.root() / "restore", src / "data")) == random_bytes(300 * 1024, 3));
}

TEST_CASE("a file that changes while it is read", "[backup]") {
  RepoFixture f;
  const fs::path src = f.root() / "src";
  fs::create_directories(src);
  const fs::path growing = src / "growing";
  write_file(growing, random_bytes(3 << 20, 9));
  write_file(src / "steady", "steady");

  bool appended = false;
  engine::FileBackupOptions o;
  o.paths = {src};
  auto r = engine::backup_files(f.repo(), o, [&](const engine::BackupProgress& p) {
    if (!appended && p.current == growing.string() && p.bytes_read > 0) {
      std::ofstream out(growing, std::ios::app | std::ios::binary);
      out << "more";
      appended = true;
    }
  });
  REQUIRE_OK(r);
  REQUIRE(appended);
  CHECK_FALSE(r->partial);
  REQUIRE(r->warnings.size() == 1);
  CHECK(r->warnings[0] == "file '" + growing.string() + "' changed while being read");

  // What was read is restorable as it was read, and the next backup reads it again.
  f.restore(r->snapshot, f.root() / "restore");
  auto back = read_bytes(under(f.root() / "restore", growing));
  CHECK(back.size() >= (3u << 20));
  auto node = engine::find_node(f.repo(), r->snapshot.tree, growing.string());
  REQUIRE_OK(node);
  CHECK(node->meta.size == back.size());
  auto again = f.backup({src});
  CHECK(again.snapshot.stats["files_changed"] == 1);
  CHECK(again.snapshot.stats["files_unmodified"] == 1);
}

TEST_CASE("a damaged parent does not stop incremental backups", "[backup][incremental]") {
  RepoFixture f;
  const fs::path src = f.root() / "src";
  fs::create_directories(src / "sub");
  write_file(src / "top", "top");
  write_file(src / "sub" / "file", "file");
  auto s1 = f.backup({src}).snapshot;
  auto s2 = f.backup({src}).snapshot;
  REQUIRE(s2.parent == s1.id);

  SECTION("a damaged manifest: the snapshot before it is the parent") {
    flip_byte(f.storage() / "snapshots" / s2.id, 40);
    auto s3 = f.backup({src});
    CHECK(s3.snapshot.parent == s1.id);
    CHECK(s3.snapshot.stats["files_unmodified"] == 2);
    CHECK(s3.warnings.empty());
  }

  SECTION("a damaged subtree: the files below it are read again") {
    auto sub = engine::find_node(f.repo(), s2.tree, (src / "sub").string());
    REQUIRE_OK(sub);
    auto loc = f.repo().catalog().find_blob(*sub->subtree);
    REQUIRE_OK(loc);
    REQUIRE(loc->has_value());
    flip_byte(f.storage() / repo::pack_object_name((*loc)->pack), (*loc)->offset + 40);
    // Changed, so that the new tree of "sub" is not the damaged blob (which
    // deduplication would reference again).
    change(src / "sub" / "file", "changed");
    auto s3 = f.backup({src});
    CHECK(s3.snapshot.parent == s2.id);
    CHECK_FALSE(s3.partial);
    REQUIRE(s3.warnings.size() == 1);
    CHECK(s3.warnings[0].find("the parent snapshot's tree of '" + (src / "sub").string() +
                              "' cannot be read") == 0);
    CHECK(s3.snapshot.stats["files_unmodified"] == 1);
    CHECK(s3.snapshot.stats["files_new"] == 1);  // no old tree to compare with
    f.restore(s3.snapshot, f.root() / "restore");
    CHECK(read_text(under(f.root() / "restore", src / "sub" / "file")) == "changed");
  }

  SECTION("a lost root tree: everything is read, as for a full") {
    auto loc = f.repo().catalog().find_blob(s2.tree);
    REQUIRE_OK(loc);
    REQUIRE(loc->has_value());
    // The pack is gone, and the catalog was told (as a repair does), so
    // that the trees are stored again rather than deduplicated.
    fs::remove(f.storage() / repo::pack_object_name((*loc)->pack));
    REQUIRE_OK(f.repo().catalog().remove_pack((*loc)->pack));
    auto s3 = f.backup({src});
    CHECK(s3.snapshot.parent.empty());
    CHECK(s3.snapshot.backup_type == "full");
    REQUIRE(s3.warnings.size() == 1);
    CHECK(s3.warnings[0].find("the parent snapshot's tree of '/' cannot be read") == 0);
    CHECK(s3.snapshot.stats["files_new"] == 2);
    f.restore(s3.snapshot, f.root() / "restore");
    CHECK(compare_trees(src, under(f.root() / "restore", src)).empty());
  }
}
