// Naming snapshots ("latest", id prefixes), listing them with filters, and
// diffing two of them.
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <set>

#include "engine/snapshots.hpp"
#include "engine_fixture.hpp"

using namespace bkp;
using namespace bkp::test;
using engine::BackupType;

namespace {

// Two ids that share a prefix of four hex digits, by writing a catalog row
// with a chosen id next to a real snapshot.
std::string sibling_id(const std::string& id) {
  std::string other = id;
  other[63] = other[63] == '0' ? '1' : '0';
  return other;
}

std::vector<std::string> ids(const std::vector<repo::Snapshot>& snaps) {
  std::vector<std::string> out;
  for (auto& s : snaps) out.push_back(s.id);
  return out;
}

}  // namespace

TEST_CASE("resolving and listing snapshots", "[snapshots]") {
  RepoFixture f;
  const fs::path src = f.root() / "src";
  fs::create_directories(src);
  write_file(src / "a", "a");
  auto s1 = f.backup({src}, BackupType::full, {"daily", "web"}, "web").snapshot;
  auto s2 = f.backup({src}, BackupType::full, {"weekly"}, "db").snapshot;
  auto s3 = f.backup({src}, BackupType::full, {"daily"}, "web").snapshot;

  SECTION("latest") {
    auto latest = engine::resolve_snapshot(f.repo(), "latest");
    REQUIRE_OK(latest);
    CHECK(latest->id == s3.id);
    auto of_db = engine::resolve_snapshot(f.repo(), "latest", {"db", {}});
    REQUIRE_OK(of_db);
    CHECK(of_db->id == s2.id);
    auto tagged = engine::resolve_snapshot(f.repo(), "latest", {"", {"daily", "web"}});
    REQUIRE_OK(tagged);
    CHECK(tagged->id == s1.id);
    auto none = engine::resolve_snapshot(f.repo(), "latest", {"nothing", {}});
    REQUIRE_FALSE(none.ok());
    CHECK(none.error().kind == util::ErrorKind::not_found);
  }

  SECTION("by id and unique prefix") {
    for (auto* s : {&s1, &s2, &s3}) {
      auto full = engine::resolve_snapshot(f.repo(), s->id);
      REQUIRE_OK(full);
      CHECK(full->id == s->id);
      // Random ids: twelve digits are unique among three.
      auto prefix = engine::resolve_snapshot(f.repo(), s->id.substr(0, 12));
      REQUIRE_OK(prefix);
      CHECK(prefix->id == s->id);
    }
  }

  SECTION("an ambiguous prefix") {
    catalog::BackupRow row;
    row.id = sibling_id(s1.id);
    row.backup_type = "full";
    row.database_name = "web";
    row.status = "completed";
    row.created_at = "2000-01-01T00:00:00.000000Z";
    REQUIRE_OK(f.repo().catalog().upsert_backup(row));
    auto r = engine::resolve_snapshot(f.repo(), s1.id.substr(0, 20));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == util::ErrorKind::usage);
    CHECK(r.error().message.find("ambiguous") != std::string::npos);
    // The whole id still names one.
    auto exact = engine::resolve_snapshot(f.repo(), s1.id);
    REQUIRE_OK(exact);
  }

  SECTION("unknown and malformed names") {
    std::string unknown = s1.id;
    for (auto& c : unknown) c = c == 'f' ? 'e' : 'f';  // differs in every digit
    auto r = engine::resolve_snapshot(f.repo(), unknown.substr(0, 8));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == util::ErrorKind::not_found);
    for (auto bad : {"abc", "ABCD", "latest2", "12 34", "", "g123"}) {
      auto b = engine::resolve_snapshot(f.repo(), bad);
      REQUIRE_FALSE(b.ok());
      CHECK(b.error().kind == util::ErrorKind::usage);
    }
  }

  SECTION("list with filters, newest first") {
    auto all = engine::list_snapshots(f.repo());
    REQUIRE_OK(all);
    CHECK(ids(*all) == std::vector<std::string>{s3.id, s2.id, s1.id});
    auto web = engine::list_snapshots(f.repo(), {"web", {}});
    REQUIRE_OK(web);
    CHECK(ids(*web) == std::vector<std::string>{s3.id, s1.id});
    auto daily = engine::list_snapshots(f.repo(), {"", {"daily"}});
    REQUIRE_OK(daily);
    CHECK(ids(*daily) == std::vector<std::string>{s3.id, s1.id});
    auto both = engine::list_snapshots(f.repo(), {"web", {"daily", "web"}});
    REQUIRE_OK(both);
    CHECK(ids(*both) == std::vector<std::string>{s1.id});
    auto none = engine::list_snapshots(f.repo(), {"db", {"daily"}});
    REQUIRE_OK(none);
    CHECK(none->empty());
  }

  SECTION("rows that are not completed are not listed") {
    catalog::BackupRow row;
    row.id = repo::new_snapshot_id();
    row.backup_type = "full";
    row.database_name = "web";
    row.status = "running";
    row.created_at = "2999-01-01T00:00:00.000000Z";
    REQUIRE_OK(f.repo().catalog().upsert_backup(row));
    auto all = engine::list_snapshots(f.repo());
    REQUIRE_OK(all);
    CHECK(all->size() == 3);
    auto latest = engine::resolve_snapshot(f.repo(), "latest");
    REQUIRE_OK(latest);
    CHECK(latest->id == s3.id);
  }
}

TEST_CASE("diffing snapshots", "[snapshots][diff]") {
  RepoFixture f;
  const fs::path src = f.root() / "src";
  fs::create_directories(src / "gone" / "inner");
  fs::create_directories(src / "same");
  write_file(src / "modified", "before");
  write_file(src / "chmod", "mode");
  write_file(src / "removed", "removed");
  write_file(src / "same" / "file", "same");
  write_file(src / "gone" / "inner" / "f", "f");
  write_file(src / "becomes-dir", "file");
  write_file(src / "xattr", "x");
  write_file(src / "xattr-value", "x");
  REQUIRE(::lsetxattr((src / "xattr-value").c_str(), "user.k", "1", 1, 0) == 0);
  REQUIRE(::symlink("target-a", (src / "link").c_str()) == 0);
  auto a = f.backup({src}).snapshot;

  write_file(src / "modified", "after!");  // same size, new content
  REQUIRE(::chmod((src / "chmod").c_str(), 0600) == 0);
  fs::remove(src / "removed");
  fs::remove_all(src / "gone");
  fs::create_directories(src / "new-dir");
  write_file(src / "new-dir" / "n", "n");
  write_file(src / "added", "added");
  fs::remove(src / "becomes-dir");
  fs::create_directories(src / "becomes-dir");
  REQUIRE(::lsetxattr((src / "xattr").c_str(), "user.k", "v", 1, 0) == 0);
  REQUIRE(::lsetxattr((src / "xattr-value").c_str(), "user.k", "2", 1, 0) == 0);
  fs::remove(src / "link");
  REQUIRE(::symlink("target-b", (src / "link").c_str()) == 0);
  auto b = f.backup({src}).snapshot;

  std::set<std::string> got;
  auto st = engine::diff_snapshots(f.repo(), a, b, [&](const engine::DiffEntry& e) {
    got.insert(std::string(1, engine::change_symbol(e.change)) + " " + e.path);
  });
  REQUIRE_OK(st);
  const std::string p = src.string();
  std::set<std::string> want = {
      "M " + p + "/modified",
      "U " + p + "/chmod",
      "U " + p + "/xattr",
      "U " + p + "/xattr-value",
      "M " + p + "/link",
      "- " + p + "/removed",
      "- " + p + "/gone",
      "- " + p + "/gone/inner",
      "- " + p + "/gone/inner/f",
      "+ " + p + "/new-dir",
      "+ " + p + "/new-dir/n",
      "+ " + p + "/added",
      "- " + p + "/becomes-dir",
      "+ " + p + "/becomes-dir",
      "U " + p,  // its mtime changed
  };
  // Directories above the root may show as changed (their mtimes moved
  // while the test wrote files); nothing else may appear.
  std::set<std::string> extra;
  for (auto& g : got) {
    if (!want.count(g) && !(g[0] == 'U' && p.rfind(g.substr(2) + "/", 0) == 0)) extra.insert(g);
  }
  for (auto& w : want) {
    INFO(w);
    CHECK(got.count(w));
  }
  CHECK(extra.empty());
  CHECK_FALSE(got.count("M " + p + "/same/file"));
  CHECK_FALSE(got.count("U " + p + "/same"));

  SECTION("a snapshot against itself is empty") {
    int n = 0;
    REQUIRE_OK(engine::diff_snapshots(f.repo(), a, a, [&](const engine::DiffEntry&) { ++n; }));
    CHECK(n == 0);
  }

  SECTION("reversed, additions become removals") {
    std::set<std::string> rev;
    REQUIRE_OK(engine::diff_snapshots(f.repo(), b, a, [&](const engine::DiffEntry& e) {
      rev.insert(std::string(1, engine::change_symbol(e.change)) + " " + e.path);
    }));
    CHECK(rev.count("+ " + p + "/removed"));
    CHECK(rev.count("- " + p + "/new-dir/n"));
    CHECK(rev.count("M " + p + "/modified"));
  }

  CHECK(engine::change_symbol(engine::Change::added) == '+');
  CHECK(engine::change_symbol(engine::Change::removed) == '-');
  CHECK(engine::change_symbol(engine::Change::modified) == 'M');
  CHECK(engine::change_symbol(engine::Change::metadata) == 'U');
}
