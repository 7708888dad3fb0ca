#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>

#include "sources/files/reader.hpp"
#include "sources/files/walker.hpp"
#include "test_tmpdir.hpp"
#include "tree_fixture.hpp"

using namespace bkp;
using namespace bkp::sources;
namespace fs = std::filesystem;

namespace {

Node stat_of(const fs::path& p) {
  auto n = stat_path(p);
  REQUIRE(n.ok());
  return *n;
}

std::string read_all(FileReader& r, size_t chunk) {
  std::string out;
  std::vector<std::uint8_t> buf(chunk);
  for (;;) {
    auto n = r.read(buf.data(), buf.size());
    REQUIRE(n.ok());
    if (*n == 0) return out;
    out.append(reinterpret_cast<const char*>(buf.data()), *n);
  }
}

void append(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary | std::ios::app);
  out << text;
}

}  // namespace

TEST_CASE("a reader streams the content of an unchanged file", "[reader]") {
  test::TempDir tmp;
  auto p = tmp.path() / "f";
  std::string content;
  for (int i = 0; i < 100000; ++i) content += static_cast<char>(i * 7 + i / 256);
  test::write_text(p, content);
  auto node = stat_of(p);
  auto r = open_for_backup(p, node);
  REQUIRE(r.ok());
  CHECK(r->path() == p);
  CHECK(read_all(*r, 4093) == content);
  CHECK(r->bytes_read() == content.size());
  CHECK_FALSE(r->changed_while_reading());

  // Moves keep the open file.
  auto r2 = open_for_backup(p, node);
  REQUIRE(r2.ok());
  FileReader moved = std::move(*r2);
  FileReader assigned = std::move(*r);
  assigned = std::move(moved);
  CHECK(read_all(assigned, 1 << 20) == content);
  CHECK_FALSE(assigned.changed_while_reading());
  std::uint8_t b = 0;
  auto dead = r2->read(&b, 1);  // moved-from
  REQUIRE_FALSE(dead.ok());
  CHECK(r2->changed_while_reading());
}

TEST_CASE("the source file's atime is left alone", "[reader]") {
  test::TempDir tmp;
  auto p = tmp.path() / "f";
  test::write_text(p, "content");
  test::set_times(p, test::file_atime_ns,
                  test::file_mtime_ns);  // atime < mtime: relatime would update
  auto r = open_for_backup(p, stat_of(p));
  REQUIRE(r.ok());
  CHECK(read_all(*r, 16) == "content");
  CHECK(stat_of(p).atime_ns == test::file_atime_ns);
}

TEST_CASE("a file appended to while being read is reported", "[reader]") {
  test::TempDir tmp;
  auto p = tmp.path() / "log";
  test::write_text(p, std::string(10000, 'a'));
  auto node = stat_of(p);
  auto r = open_for_backup(p, node);
  REQUIRE(r.ok());
  std::vector<std::uint8_t> buf(4096);
  REQUIRE(*r->read(buf.data(), buf.size()) == 4096);
  append(p, "more");
  std::string rest = read_all(*r, 4096);
  CHECK(rest.size() == 10000 - 4096 + 4);
  CHECK(r->changed_while_reading());
}

TEST_CASE("a file rewritten in place (same size) is reported", "[reader]") {
  test::TempDir tmp;
  auto p = tmp.path() / "f";
  test::write_text(p, "aaaa");
  test::set_times(p, test::file_atime_ns, test::file_mtime_ns);
  auto node = stat_of(p);
  auto r = open_for_backup(p, node);
  REQUIRE(r.ok());
  {
    std::fstream f(p, std::ios::in | std::ios::out | std::ios::binary);
    f << "bbbb";
  }
  CHECK(read_all(*r, 2) == "bbbb");
  CHECK(r->changed_while_reading());
}

TEST_CASE("a file truncated since the walk is reported", "[reader]") {
  test::TempDir tmp;
  auto p = tmp.path() / "f";
  test::write_text(p, "abcdef");
  auto node = stat_of(p);
  REQUIRE(::truncate(p.c_str(), 3) == 0);
  auto r = open_for_backup(p, node);
  REQUIRE(r.ok());
  CHECK(read_all(*r, 100) == "abc");
  CHECK(r->changed_while_reading());
}

TEST_CASE("a reader refuses a path that is no longer the walked file", "[reader]") {
  test::TempDir tmp;
  auto p = tmp.path() / "f";
  test::write_text(p, "secret? no");
  test::write_text(tmp.path() / "other", "other");
  auto node = stat_of(p);

  SECTION("replaced by a symlink") {
    fs::remove(p);
    fs::create_symlink(tmp.path() / "other", p);
    auto r = open_for_backup(p, node);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == util::ErrorKind::io);
    CHECK(r.error().message.find("replaced by a symlink") != std::string::npos);
  }
  SECTION("replaced by a symlink to itself (same inode behind it)") {
    fs::rename(p, tmp.path() / "moved");
    fs::create_symlink(tmp.path() / "moved", p);
    auto r = open_for_backup(p, node);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("symlink") != std::string::npos);
  }
  SECTION("replaced by another file") {
    fs::rename(tmp.path() / "other", p);
    auto r = open_for_backup(p, node);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("replaced by another file") != std::string::npos);
  }
  SECTION("replaced by a FIFO: fails at once instead of blocking") {
    fs::remove(p);
    REQUIRE(::mkfifo(p.c_str(), 0600) == 0);
    node.inode = stat_of(p).inode;  // even when the inode matches
    auto start = std::chrono::steady_clock::now();
    auto r = open_for_backup(p, node);
    REQUIRE_FALSE(r.ok());
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
  }
  SECTION("vanished") {
    fs::remove(p);
    auto r = open_for_backup(p, node);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == util::ErrorKind::not_found);
    CHECK(r.error().message.find("'" + p.string() + "'") != std::string::npos);
  }
  SECTION("a directory") {
    auto r = open_for_backup(tmp.path(), stat_of(tmp.path()));
    REQUIRE_FALSE(r.ok());
  }
}
