#include <catch2/catch.hpp>

#include <chrono>

#include "sources/files/exclude.hpp"
#include "sources/files/walker.hpp"
#include "test_tmpdir.hpp"
#include "tree_fixture.hpp"

using namespace bkp;
using namespace bkp::sources;
namespace fs = std::filesystem;

namespace {

Excludes compile(std::vector<std::string> patterns) {
  auto ex = Excludes::compile(patterns);
  REQUIRE(ex.ok());
  return std::move(ex).value();
}

bool file_matches(const std::string& pattern, const std::string& path) {
  return compile({pattern}).matches(path, PathKind::non_dir);
}

}  // namespace

TEST_CASE("a pattern without a slash matches the last component", "[exclude]") {
  CHECK(file_matches("*.tmp", "/a/b/x.tmp"));
  CHECK(file_matches("*.tmp", "/x.tmp"));
  CHECK(file_matches("*.tmp", "/a/.hidden.tmp"));  // '*' matches a leading dot
  CHECK_FALSE(file_matches("*.tmp", "/a/x.tmp/y"));
  CHECK_FALSE(file_matches("*.tmp", "/a/x.tmpx"));
  CHECK(file_matches("cache", "/home/u/cache"));
  CHECK_FALSE(file_matches("cache", "/home/u/cached"));
  CHECK(file_matches("?.o", "/src/a.o"));
  CHECK_FALSE(file_matches("?.o", "/src/ab.o"));
  CHECK(file_matches("[ab].c", "/src/b.c"));
  CHECK_FALSE(file_matches("[ab].c", "/src/c.c"));
  CHECK(file_matches("\\*", "/src/*"));  // a quoted '*' is literal
  CHECK_FALSE(file_matches("\\*", "/src/x"));
  CHECK(file_matches("new\nline", "/a/new\nline"));
  CHECK(file_matches("\xff*", "/a/\xff\xfe"));
}

TEST_CASE("a pattern with a leading slash matches the whole path", "[exclude]") {
  CHECK(file_matches("/home/*/cache", "/home/u/cache"));
  CHECK_FALSE(file_matches("/home/*/cache", "/home/u/v/cache"));  // '*' stops at '/'
  CHECK_FALSE(file_matches("/home/*/cache", "/x/home/u/cache"));
  CHECK_FALSE(file_matches("/home/*/cache", "/home/u/cache/file"));
  CHECK(file_matches("/etc//passwd", "/etc/passwd"));
  CHECK(file_matches("/*", "/anything"));
}

TEST_CASE("a relative pattern with a slash matches at any depth", "[exclude]") {
  CHECK(file_matches("build/*.o", "/src/build/a.o"));
  CHECK(file_matches("build/*.o", "/build/a.o"));
  CHECK_FALSE(file_matches("build/*.o", "/src/build/sub/a.o"));
  CHECK_FALSE(file_matches("build/*.o", "/src/mybuild/a.o"));
}

TEST_CASE("** matches any number of components", "[exclude]") {
  CHECK(file_matches("/var/**/log", "/var/log"));
  CHECK(file_matches("/var/**/log", "/var/a/log"));
  CHECK(file_matches("/var/**/log", "/var/a/b/c/log"));
  CHECK_FALSE(file_matches("/var/**/log", "/var/a/logs"));
  CHECK_FALSE(file_matches("/var/**/log", "/usr/var/log"));
  CHECK(file_matches("**/node_modules", "/a/b/node_modules"));
  // A trailing "**" means "everything inside", not the directory itself.
  CHECK(file_matches("/data/**", "/data/x"));
  CHECK(file_matches("/data/**", "/data/x/y"));
  CHECK_FALSE(file_matches("/data/**", "/data"));
  CHECK(file_matches("/a/**/b/**/c", "/a/x/b/y/z/c"));
  CHECK_FALSE(file_matches("/a/**/b/**/c", "/a/x/y/z/c"));

  // Many "**" against a deep path stays fast (memoised, not exponential).
  std::string pattern, path;
  for (int i = 0; i < 30; ++i) pattern += "/**";
  pattern += "/nomatch";
  for (int i = 0; i < 60; ++i) path += "/d";
  auto start = std::chrono::steady_clock::now();
  CHECK_FALSE(file_matches(pattern, path));
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(1));
}

TEST_CASE("a trailing slash matches directories only", "[exclude]") {
  auto ex = compile({"cache/", "/srv/*/tmp/"});
  CHECK(ex.matches("/home/u/cache", PathKind::dir));
  CHECK_FALSE(ex.matches("/home/u/cache", PathKind::non_dir));
  CHECK_FALSE(ex.matches("/home/u/cache", PathKind::unknown));
  CHECK(ex.matches("/srv/a/tmp", PathKind::dir));
  CHECK_FALSE(ex.matches("/srv/a/tmp", PathKind::non_dir));
}

TEST_CASE("several patterns, none, and invalid ones", "[exclude]") {
  Excludes none;
  CHECK(none.empty());
  CHECK_FALSE(none.matches("/a", PathKind::dir));
  auto ex = compile({"*.o", "/tmp/**"});
  CHECK_FALSE(ex.empty());
  CHECK(ex.matches("/x/y.o", PathKind::non_dir));
  CHECK(ex.matches("/tmp/z", PathKind::non_dir));
  CHECK_FALSE(ex.matches("/x/y.c", PathKind::non_dir));
  for (std::string bad : {"", "/", "///"}) {
    auto r = Excludes::compile({"ok", bad});
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == util::ErrorKind::usage);
    CHECK(r.error().message.find("'" + bad + "'") != std::string::npos);
  }
}

TEST_CASE("exclude files: comments, blanks and CRLF", "[exclude]") {
  test::TempDir tmp;
  auto p = tmp.path() / "excludes";
  test::write_text(p,
                   "# comment\n"
                   "*.tmp\n"
                   "\n"
                   "   \t\n"
                   "  /var/cache/  \r\n"
                   "\t# indented comment\n"
                   "last-without-newline");
  auto r = read_exclude_file(p);
  REQUIRE(r.ok());
  CHECK(*r == std::vector<std::string>{"*.tmp", "/var/cache/", "last-without-newline"});
  test::write_text(p, "");
  REQUIRE(read_exclude_file(p).ok());
  CHECK(read_exclude_file(p)->empty());
  auto missing = read_exclude_file(tmp.path() / "missing");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().kind == util::ErrorKind::not_found);
}

TEST_CASE("the walker leaves out excluded entries and their contents", "[exclude]") {
  test::TempDir tmp;
  auto root = tmp.path() / "t";
  fs::create_directories(root / "keep" / "cache");
  fs::create_directories(root / "skipdir" / "deep");
  fs::create_directories(root / "a" / "b" / "c");
  for (auto p : {"keep/x.tmp", "keep/x.txt", "keep/cache/f", "skipdir/deep/f", "a/b/c/log",
                 "a/b/keep", "cache", "vanishing"}) {
    test::write_text(root / p, "data");
  }
  test::write_text(tmp.path() / "exclude-file", "# from a file\n*.tmp\n");
  auto from_file = read_exclude_file(tmp.path() / "exclude-file");
  REQUIRE(from_file.ok());

  WalkOptions o;
  o.excludes = *from_file;
  for (std::string p : {std::string("cache/"), (root / "skipdir").string(), std::string("**/c/log"),
                        std::string("vanish*")}) {
    o.excludes.push_back(p);
  }
  test::Recorder rec;
  // "vanishing" is excluded: even when it cannot be read, it is not reported.
  rec.on_entry = [&](const fs::path& p) {
    if (p.filename() == "log" || p.filename() == "keep") fs::remove(root / "vanishing");
  };
  REQUIRE(walk({root}, o, rec).ok());
  std::vector<fs::path> expected = {root,
                                    root / "a",
                                    root / "a" / "b",
                                    root / "a" / "b" / "c",
                                    root / "a" / "b" / "keep",
                                    root / "cache",  // a file: "cache/" is for directories
                                    root / "keep",
                                    root / "keep" / "x.txt"};
  CHECK(rec.paths() == expected);
  for (const auto& e : rec.events) CHECK(e.kind != test::Event::skipped);
}
