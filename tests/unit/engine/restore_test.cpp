// restore_to_directory: filters, overwrite policies, --verify, and the
// recovery_jobs row each restore leaves.
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <set>

#include "engine/restore.hpp"
#include "engine_fixture.hpp"

using namespace bkp;
using namespace bkp::test;
using engine::OverwritePolicy;

namespace {

constexpr std::int64_t kMtime = 1'600'000'000'123'456'789;

struct Source {
  fs::path src;
  repo::Snapshot snap;
};

Source make_source(RepoFixture& f) {
  Source s;
  s.src = f.root() / "src";
  fs::create_directories(s.src / "docs" / "deep");
  fs::create_directories(s.src / "logs");
  write_file(s.src / "docs" / "a.txt", "alpha");
  write_file(s.src / "docs" / "b.md", "bravo");
  write_file(s.src / "docs" / "deep" / "c.txt", "charlie");
  write_file(s.src / "logs" / "x.log", "x-ray");
  write_file(s.src / "logs" / "y.log", "yankee");
  write_file(s.src / "top.txt", "top");
  write_file(s.src / "big", random_bytes(2 << 20, 5));
  REQUIRE(::symlink("top.txt", (s.src / "link").c_str()) == 0);
  for (auto& e : fs::recursive_directory_iterator(s.src)) {
    if (e.symlink_status().type() != fs::file_type::directory) set_mtime(e.path(), kMtime);
  }
  s.snap = f.backup({s.src}).snapshot;
  return s;
}

// Paths of regular files and symlinks under `dir`, relative to it.
std::set<std::string> files_under(const fs::path& dir) {
  std::set<std::string> out;
  if (!fs::exists(dir)) return out;
  for (auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.symlink_status().type() != fs::file_type::directory) {
      out.insert(e.path().lexically_relative(dir).string());
    }
  }
  return out;
}

engine::RestoreReport restore_with(RepoFixture& f, const repo::Snapshot& snap,
                                   const fs::path& target, engine::RestoreFilter filter,
                                   OverwritePolicy overwrite = OverwritePolicy::if_changed) {
  engine::RestoreOptions o;
  o.target = target;
  o.filter = std::move(filter);
  o.overwrite = overwrite;
  auto r = engine::restore_to_directory(f.repo(), snap, o);
  REQUIRE_OK(r);
  return std::move(r).value();
}

}  // namespace

TEST_CASE("restore filters", "[restore][filter]") {
  RepoFixture f;
  auto s = make_source(f);
  const fs::path target = f.root() / "restore";
  const fs::path at = under(target, s.src);
  using Set = std::set<std::string>;

  SECTION("include a subdirectory") {
    auto r = restore_with(f, s.snap, target, {{(s.src / "docs").string()}, {}});
    CHECK(files_under(at) == Set{"docs/a.txt", "docs/b.md", "docs/deep/c.txt"});
    CHECK(r.files == 3);
    CHECK_FALSE(fs::exists(at / "logs"));
    // The selected directory gets its metadata, the ones above it do not.
    CHECK(mtime_of(at / "docs") == mtime_of(s.src / "docs"));
  }

  SECTION("include a subdirectory given with a trailing slash") {
    restore_with(f, s.snap, target, {{(s.src / "docs" / "deep").string() + "/"}, {}});
    CHECK(files_under(at) == Set{"docs/deep/c.txt"});
  }

  SECTION("exclude a glob") {
    restore_with(f, s.snap, target, {{}, {"*.log"}});
    CHECK(files_under(at) ==
          Set{"big", "docs/a.txt", "docs/b.md", "docs/deep/c.txt", "link", "top.txt"});
    CHECK(fs::is_directory(at / "logs"));
  }

  SECTION("include by name, anywhere") {
    restore_with(f, s.snap, target, {{"*.txt"}, {}});
    CHECK(files_under(at) == Set{"docs/a.txt", "docs/deep/c.txt", "top.txt"});
    CHECK_FALSE(fs::exists(at / "logs"));  // no empty directories left behind
  }

  SECTION("include by trailing components") {
    restore_with(f, s.snap, target, {{"docs/*.txt"}, {}});
    CHECK(files_under(at) == Set{"docs/a.txt"});
    CHECK_FALSE(fs::exists(at / "logs"));
    CHECK_FALSE(fs::exists(at / "docs" / "deep"));
  }

  SECTION("an anchored glob creates no unrelated directories") {
    restore_with(f, s.snap, target, {{(s.src / "docs").string() + "/*.txt"}, {}});
    CHECK(files_under(at) == Set{"docs/a.txt"});
    CHECK_FALSE(fs::exists(at / "logs"));
  }

  SECTION("include and exclude together") {
    restore_with(f, s.snap, target, {{(s.src / "docs").string()}, {"deep"}});
    CHECK(files_under(at) == Set{"docs/a.txt", "docs/b.md"});
    CHECK_FALSE(fs::exists(at / "docs" / "deep"));
  }

  SECTION("an include that matches nothing restores nothing") {
    auto r = restore_with(f, s.snap, target, {{"/no/such/path"}, {}});
    CHECK(r.files == 0);
    CHECK(fs::is_empty(target));
    auto by_name = restore_with(f, s.snap, target, {{"*.nothing"}, {}});
    CHECK(by_name.files == 0);
    CHECK(fs::is_empty(target));
  }

  SECTION("filter rules") {
    engine::RestoreFilter filter{{"/data/*.txt", "/srv/www"}, {"*.tmp", "/srv/www/cache/"}};
    CHECK(filter.selects("/data/a.txt"));
    CHECK_FALSE(filter.selects("/data/sub/a.txt"));
    CHECK(filter.selects("/srv/www/index.html"));
    CHECK_FALSE(filter.selects("/srv/www/x.tmp"));
    CHECK_FALSE(filter.selects("/srv/www/cache/page"));
    CHECK_FALSE(filter.selects("/srv/wwwx"));
    CHECK(filter.may_contain("/data"));
    CHECK(filter.may_contain("/srv"));
    CHECK_FALSE(filter.may_contain("/etc"));
    CHECK_FALSE(filter.may_contain("/srv/other"));
    CHECK_FALSE(filter.may_contain("/srv/www/cache"));
    engine::RestoreFilter all;
    CHECK(all.selects("/anything"));
    CHECK(all.may_contain("/anything"));
  }
}

TEST_CASE("overwrite policies", "[restore][overwrite]") {
  RepoFixture f;
  auto s = make_source(f);
  const fs::path target = f.root() / "restore";
  const fs::path at = under(target, s.src);
  f.restore(s.snap, target);
  REQUIRE(compare_trees(s.src, at).empty());

  // What a user may have done to an earlier restore.
  write_file(at / "docs" / "a.txt", "changed and longer");  // new size and mtime
  write_file(at / "docs" / "b.md", "BRAVO");                // same size...
  set_mtime(at / "docs" / "b.md", kMtime);                  // ...and mtime
  fs::remove(at / "top.txt");
  fs::create_directories(at / "top.txt");  // a directory where a file was
  write_file(at / "top.txt" / "keep", "keep");
  fs::remove(at / "logs" / "x.log");  // missing
  fs::remove(at / "link");
  write_file(at / "link", "a file where a symlink was");

  SECTION("never") {
    auto r = restore_with(f, s.snap, target, {}, OverwritePolicy::never);
    CHECK(read_text(at / "docs" / "a.txt") == "changed and longer");
    CHECK(read_text(at / "docs" / "b.md") == "BRAVO");
    CHECK(read_text(at / "top.txt" / "keep") == "keep");
    CHECK(read_text(at / "logs" / "x.log") == "x-ray");  // missing ones are restored
    CHECK(fs::is_regular_file(fs::symlink_status(at / "link")));
    CHECK(r.files == 1);
    CHECK(r.skipped_existing == 7);  // a.txt b.md c.txt y.log big link top.txt
  }

  SECTION("if-changed") {
    auto r = restore_with(f, s.snap, target, {}, OverwritePolicy::if_changed);
    CHECK(read_text(at / "docs" / "a.txt") == "alpha");
    CHECK(read_text(at / "docs" / "b.md") == "BRAVO");  // same size and mtime: left alone
    CHECK(read_text(at / "logs" / "x.log") == "x-ray");
    CHECK(fs::read_symlink(at / "link") == "top.txt");
    // A directory is never replaced by a file.
    CHECK(read_text(at / "top.txt" / "keep") == "keep");
    CHECK(r.partial);
    REQUIRE(r.warnings.size() == 1);
    CHECK(r.warnings[0] ==
          "'" + (at / "top.txt").string() + "' is a directory; not replaced by a file");
    CHECK(r.skipped_existing == 4);  // b.md c.txt y.log big
  }

  SECTION("always") {
    auto r = restore_with(f, s.snap, target, {}, OverwritePolicy::always);
    CHECK(read_text(at / "docs" / "a.txt") == "alpha");
    CHECK(read_text(at / "docs" / "b.md") == "bravo");
    CHECK(read_text(at / "top.txt" / "keep") == "keep");
    CHECK(r.partial);
    CHECK(r.warnings.size() == 1);
    CHECK(r.skipped_existing == 0);
    fs::remove_all(at / "top.txt");
    f.restore(s.snap, target, OverwritePolicy::always);
    CHECK(compare_trees(s.src, at).empty());
  }

  SECTION("a file where a directory belongs") {
    fs::remove_all(at / "logs");
    write_file(at / "logs", "in the way");
    engine::RestoreOptions o;
    o.target = target;
    o.overwrite = OverwritePolicy::never;
    auto never = engine::restore_to_directory(f.repo(), s.snap, o);
    REQUIRE_FALSE(never.ok());
    CHECK(never.error().kind == util::ErrorKind::exists);
    CHECK(never.error().message.find("exists and is not a directory") != std::string::npos);
    o.overwrite = OverwritePolicy::if_changed;
    auto replaced = engine::restore_to_directory(f.repo(), s.snap, o);
    REQUIRE_OK(replaced);
    CHECK(read_text(at / "logs" / "y.log") == "yankee");
  }

  SECTION("parse_overwrite") {
    CHECK(engine::parse_overwrite("never") == OverwritePolicy::never);
    CHECK(engine::parse_overwrite("if-changed") == OverwritePolicy::if_changed);
    CHECK(engine::parse_overwrite("always") == OverwritePolicy::always);
    CHECK_FALSE(engine::parse_overwrite("if_changed").has_value());
    CHECK_FALSE(engine::parse_overwrite("").has_value());
  }
}

TEST_CASE("restore with verification", "[restore][verify]") {
  RepoFixture f;
  auto s = make_source(f);
  engine::RestoreOptions o;
  o.target = f.root() / "restore";
  o.verify = engine::VerifyWrites::yes;
  auto r = engine::restore_to_directory(f.repo(), s.snap, o);
  REQUIRE_OK(r);
  CHECK(r->files == 7);
  CHECK(compare_trees(s.src, under(o.target, s.src)).empty());

  SECTION("no target") {
    o.target.clear();
    auto none = engine::restore_to_directory(f.repo(), s.snap, o);
    REQUIRE_FALSE(none.ok());
    CHECK(none.error().kind == util::ErrorKind::usage);
  }
}

TEST_CASE("recovery_jobs rows", "[restore][jobs]") {
  RepoFixture f;
  auto s = make_source(f);
  const fs::path target = f.root() / "restore";

  auto r = f.restore(s.snap, target);
  auto jobs = f.repo().catalog().list_recovery_jobs();
  REQUIRE_OK(jobs);
  REQUIRE(jobs->size() == 1);
  const auto& job = jobs->front();
  CHECK(job.id == r.job_id);
  CHECK(job.backup_id == s.snap.id);
  CHECK(job.target_database == target.string());
  CHECK(job.status == "completed");
  CHECK(job.progress == 100);
  CHECK(!job.started_at.empty());
  CHECK(!job.completed_at.empty());
  CHECK(job.error_message.empty());
  auto steps = nlohmann::json::parse(job.steps);
  REQUIRE(steps.is_array());
  REQUIRE(steps.size() == 2);
  CHECK(steps[0]["step"] == "restore");
  CHECK(steps[0]["detail"].get<std::string>().find(s.snap.id) != std::string::npos);
  CHECK(steps[1]["step"] == "done");

  SECTION("a failing restore leaves a failed row with the error") {
    auto chunks = chunks_of(f.repo(), s.snap, (s.src / "big").string());
    auto packs = packs_of(f.repo(), chunks);
    REQUIRE(packs.size() == 1);
    fs::remove(f.storage() / packs[0]);
    engine::RestoreOptions o;
    o.target = f.root() / "restore2";
    auto failed = engine::restore_to_directory(f.repo(), s.snap, o);
    REQUIRE_FALSE(failed.ok());
    INFO(failed.error().message);
    CHECK(failed.error().message.find(packs[0]) != std::string::npos);
    auto after = f.repo().catalog().list_recovery_jobs();
    REQUIRE_OK(after);
    REQUIRE(after->size() == 2);
    const auto& bad = after->front();  // newest first
    CHECK(bad.status == "failed");
    CHECK(bad.error_message == failed.error().message);
    CHECK(bad.progress < 100);
    CHECK(!bad.completed_at.empty());
    auto bad_steps = nlohmann::json::parse(bad.steps);
    REQUIRE(bad_steps.size() == 2);
    CHECK(bad_steps[1]["step"] == "failed");
    CHECK(bad_steps[1]["detail"] == failed.error().message);
  }
}

TEST_CASE("hard links across repeated restores", "[restore][overwrite]") {
  RepoFixture f;
  const fs::path src = f.root() / "src";
  fs::create_directories(src / "sub");
  write_file(src / "h1", "shared");
  REQUIRE(::link((src / "h1").c_str(), (src / "sub" / "h2").c_str()) == 0);
  auto snap = f.backup({src}).snapshot;
  const fs::path target = f.root() / "restore";
  const fs::path at = under(target, src);
  f.restore(snap, target);

  // The second name is lost; an if-changed restore, which leaves the
  // first alone, links the second to it again.
  fs::remove(at / "sub" / "h2");
  auto r = restore_with(f, snap, target, {}, OverwritePolicy::if_changed);
  CHECK(r.skipped_existing == 1);
  struct stat a {
  }, b{};
  REQUIRE(::lstat((at / "h1").c_str(), &a) == 0);
  REQUIRE(::lstat((at / "sub" / "h2").c_str(), &b) == 0);
  CHECK(a.st_ino == b.st_ino);
  CHECK(a.st_nlink == 2);
  CHECK(compare_trees(src, at).empty());

  SECTION("always rewrites both names as one file") {
    auto again = restore_with(f, snap, target, {}, OverwritePolicy::always);
    CHECK(again.skipped_existing == 0);
    REQUIRE(::lstat((at / "h1").c_str(), &a) == 0);
    REQUIRE(::lstat((at / "sub" / "h2").c_str(), &b) == 0);
    CHECK(a.st_ino == b.st_ino);
    CHECK(a.st_nlink == 2);
  }
}
