#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <filesystem>

#include "test_tmpdir.hpp"
#include "util/fs.hpp"

using namespace bkp::util;
namespace fs = std::filesystem;

TEST_CASE("atomic write creates a 0600 file and replaces it", "[fs]") {
  bkp::test::TempDir dir;
  auto p = dir.path() / "a" / "b" / "file";
  REQUIRE(make_dirs(p.parent_path()).ok());
  REQUIRE(write_file_atomic(p, as_bytes("one")).ok());
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  REQUIRE(write_file_atomic(p, as_bytes("two")).ok());
  CHECK(*read_text_file(p) == "two");
  // No temporary files are left behind.
  CHECK(std::distance(fs::directory_iterator(p.parent_path()), fs::directory_iterator()) == 1);
}

TEST_CASE("create-only write refuses to replace", "[fs]") {
  bkp::test::TempDir dir;
  auto p = dir.path() / "once";
  REQUIRE(write_file_atomic(p, as_bytes("first"), 0600, Overwrite::forbid).ok());
  auto again = write_file_atomic(p, as_bytes("second"), 0600, Overwrite::forbid);
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().kind == ErrorKind::exists);
  CHECK(*read_text_file(p) == "first");
  CHECK(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()) == 1);
}

TEST_CASE("reading a missing file names it", "[fs]") {
  auto r = read_file("/nonexistent/bkp-test");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind == ErrorKind::not_found);
  CHECK(r.error().message.find("'/nonexistent/bkp-test'") != std::string::npos);
}
