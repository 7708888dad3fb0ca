#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

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

namespace {

Bytes pattern(std::size_t n) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(i * 131 + (i >> 12));
  return b;
}

// How many of the file's pages the page cache holds.
std::size_t resident_pages(const fs::path& p) {
  int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  struct stat st {};
  REQUIRE(::fstat(fd, &st) == 0);
  const auto size = static_cast<std::size_t>(st.st_size);
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
  ::close(fd);
  REQUIRE(map != MAP_FAILED);
  const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  std::vector<unsigned char> in((size + page - 1) / page);
  REQUIRE(::mincore(map, size, in.data()) == 0);
  ::munmap(map, size);
  return static_cast<std::size_t>(
      std::count_if(in.begin(), in.end(), [](unsigned char c) { return c & 1; }));
}

}  // namespace

TEST_CASE("a write that bypasses the page cache stores every byte, aligned or not", "[fs]") {
  bkp::test::TempDir dir;
  for (std::size_t size :
       {std::size_t{0}, std::size_t{1}, std::size_t{4095}, std::size_t{4096}, std::size_t{4097},
        (std::size_t{1} << 20) + 3, (std::size_t{3} << 20) + 8192}) {
    INFO("size " << size);
    auto p = dir.path() / ("f" + std::to_string(size));
    const Bytes data = pattern(size);
    REQUIRE(
        write_file_atomic(p, data, 0600, Overwrite::forbid, Durable::yes, PageCache::bypass).ok());
    struct stat st {};
    REQUIRE(::stat(p.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    CHECK(static_cast<std::size_t>(st.st_size) == size);
    CHECK(*read_file(p) == data);
  }
  // Replacing keeps the create-only and rename rules of the cached write.
  auto p = dir.path() / "f4097";
  auto again =
      write_file_atomic(p, pattern(10), 0600, Overwrite::forbid, Durable::yes, PageCache::bypass);
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().kind == ErrorKind::exists);
  REQUIRE(write_file_atomic(p, pattern(10), 0600, Overwrite::allow, Durable::yes, PageCache::bypass)
              .ok());
  CHECK(*read_file(p) == pattern(10));
  CHECK(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()) == 7);
}

TEST_CASE("a write that bypasses the page cache leaves the file out of it", "[fs]") {
  bkp::test::TempDir dir;
  // Only where the file system takes O_DIRECT; elsewhere the write goes
  // through the page cache, as the test above checks.
  int probe =
      ::open((dir.path() / "probe").c_str(), O_WRONLY | O_CREAT | O_DIRECT | O_CLOEXEC, 0600);
  if (probe < 0) {
    WARN("no O_DIRECT on " << dir.path() << ": not checked");
    return;
  }
  ::close(probe);
  const Bytes data = pattern((std::size_t{4} << 20) + 100);
  auto direct = dir.path() / "direct";
  auto cached = dir.path() / "cached";
  REQUIRE(write_file_atomic(direct, data, 0600, Overwrite::forbid, Durable::yes, PageCache::bypass)
              .ok());
  REQUIRE(
      write_file_atomic(cached, data, 0600, Overwrite::forbid, Durable::yes, PageCache::use).ok());
  // The last, partial block went through ftruncate and may be cached.
  CHECK(resident_pages(direct) <= 1);
  CHECK(resident_pages(cached) > 1000);
}
