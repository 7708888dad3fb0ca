// FileWritePool: restored files written, renamed into place and given their
// metadata on worker threads, with damage and errors reported per file.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <map>

#include "engine/file_write_pool.hpp"
#include "engine_fixture.hpp"

using namespace bkp;
using namespace bkp::test;
namespace fs = std::filesystem;

namespace {

sources::Node file_meta(std::uint64_t size, std::uint32_t mode, std::int64_t mtime_ns) {
  sources::Node n;
  n.type = sources::NodeType::file;
  n.size = size;
  n.mode = mode;
  n.mtime_ns = mtime_ns;
  n.atime_ns = mtime_ns;
  return n;
}

std::string slurp(const fs::path& p) {
  auto bytes = read_bytes(p);
  return std::string(bytes.begin(), bytes.end());
}

}  // namespace

TEST_CASE("the write pool writes every file whole, with its metadata", "[restore][pool]") {
  TempDir dir;
  auto threads = GENERATE(1u, 2u, 4u);
  // A bound smaller than one chunk: one chunk still always goes through.
  auto max_buffered = GENERATE(std::uint64_t{1}, std::uint64_t{1 << 20});
  std::map<fs::path, util::Bytes> expected;
  {
    engine::FileWritePool pool(
        {sources::Ownership::skip, engine::VerifyWrites::yes, threads, max_buffered, 3});
    auto open_dir = std::make_shared<engine::OpenDir>(engine::OpenDir{
        util::UniqueFd(::open(dir.path().c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC)), dir.path()});
    REQUIRE(open_dir->fd);
    for (int f = 0; f < 40; ++f) {
      fs::path dst = dir.path() / ("f" + std::to_string(f));
      std::size_t chunks = static_cast<std::size_t>(f % 5);  // empty files too
      util::Bytes whole;
      std::vector<util::Bytes> parts;
      for (std::size_t c = 0; c < chunks; ++c) {
        parts.push_back(random_bytes(1 + (f * 977 + c * 131) % 70000, f * 10 + c + 1));
        whole.insert(whole.end(), parts.back().begin(), parts.back().end());
      }
      auto meta = file_meta(whole.size(), 0640, 1'600'000'000'123'456'789LL);
      // By full path, or by name in a directory held open (as restore does).
      if (f % 3 == 0)
        pool.begin(dst, meta, chunks);
      else if (f % 3 == 1)
        pool.begin(open_dir, dst.filename().string(), meta, chunks);
      else
        pool.begin(open_dir, dst.filename().string(), meta, chunks,
                   engine::FileWritePool::Placement::direct);
      for (auto& p : parts) pool.feed(p);
      expected[dst] = whole;
    }
    pool.wait_idle();
    auto done = pool.take_finished();
    REQUIRE(done.size() == 40);
    for (auto& out : done) {
      REQUIRE_OK(out.status);
      CHECK(out.damaged_why.empty());
    }
    CHECK(pool.take_finished().empty());
  }
  for (auto& [path, data] : expected) {
    REQUIRE(read_bytes(path) == data);
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0640);
    CHECK(st.st_mtim.tv_sec == 1'600'000'000);
    CHECK(st.st_mtim.tv_nsec == 123'456'789);
  }
  // Nothing left under a temporary name.
  std::size_t entries = 0;
  for ([[maybe_unused]] auto& e : fs::directory_iterator(dir.path())) ++entries;
  CHECK(entries == expected.size());
}

TEST_CASE("names of up to NAME_MAX bytes and read-only modes are written", "[restore][pool]") {
  TempDir dir;
  // No room for ".<name>.bkp-partial": the temporary name is another one.
  std::string longest(255, 'n');
  auto open_dir = std::make_shared<engine::OpenDir>(engine::OpenDir{
      util::UniqueFd(::open(dir.path().c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC)), dir.path()});
  {
    engine::FileWritePool pool({sources::Ownership::skip, engine::VerifyWrites::yes});
    pool.begin(open_dir, longest, file_meta(5, 0400, 1'500'000'000'000'000'001LL), 1);
    pool.feed(util::Bytes{'h', 'e', 'l', 'l', 'o'});
    pool.begin(dir.path() / std::string(254, 'm'), file_meta(2, 0444, 0), 1);
    pool.feed(util::Bytes{'h', 'i'});
    pool.wait_idle();
    for (auto& out : pool.take_finished()) REQUIRE_OK(out.status);
  }
  CHECK(slurp(dir.path() / longest) == "hello");
  CHECK(slurp(dir.path() / std::string(254, 'm')) == "hi");
  struct stat st {};
  REQUIRE(::stat((dir.path() / longest).c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0400);
  CHECK(st.st_mtim.tv_nsec == 1);
  std::size_t entries = 0;
  for ([[maybe_unused]] auto& e : fs::directory_iterator(dir.path())) ++entries;
  CHECK(entries == 2);
}

TEST_CASE("a damaged chunk keeps its file from appearing, others are written", "[restore][pool]") {
  TempDir dir;
  engine::FileWritePool pool({});
  // Under a temporary name, or under its own name in a new directory: either
  // way nothing is left of it.
  auto placement = GENERATE(engine::FileWritePool::Placement::via_temporary,
                            engine::FileWritePool::Placement::direct);
  auto open_dir = std::make_shared<engine::OpenDir>(engine::OpenDir{
      util::UniqueFd(::open(dir.path().c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC)), dir.path()});
  pool.begin(open_dir, "bad", file_meta(6, 0644, 0), 3, placement);
  pool.feed(util::Bytes{'a', 'b'});
  pool.feed(util::fail(util::ErrorKind::verification, "chunk 1234 fails authentication"));
  pool.feed(util::Bytes{'e', 'f'});  // the rest of the file's chunks still come
  pool.begin(dir.path() / "good", file_meta(3, 0644, 0), 1);
  pool.feed(util::Bytes{'x', 'y', 'z'});
  pool.wait_idle();
  auto done = pool.take_finished();
  REQUIRE(done.size() == 2);
  for (auto& out : done) {
    REQUIRE_OK(out.status);
    if (out.dst.filename() == "bad")
      CHECK(out.damaged_why == "chunk 1234 fails authentication");
    else
      CHECK(out.damaged_why.empty());
  }
  CHECK_FALSE(fs::exists(dir.path() / "bad"));
  CHECK_FALSE(fs::exists(dir.path() / ".bad.bkp-partial"));
  CHECK(slurp(dir.path() / "good") == "xyz");
}

TEST_CASE("a direct write never replaces what is there", "[restore][pool]") {
  TempDir dir;
  write_file(dir.path() / "there", "old");
  auto open_dir = std::make_shared<engine::OpenDir>(engine::OpenDir{
      util::UniqueFd(::open(dir.path().c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC)), dir.path()});
  engine::FileWritePool pool({});
  pool.begin(open_dir, "there", file_meta(3, 0644, 0), 1, engine::FileWritePool::Placement::direct);
  pool.feed(util::Bytes{'n', 'e', 'w'});
  pool.wait_idle();
  auto done = pool.take_finished();
  REQUIRE(done.size() == 1);
  REQUIRE_FALSE(done[0].status.ok());
  CHECK_THAT(done[0].status.error().message, Catch::Contains("exists"));
  CHECK(slurp(dir.path() / "there") == "old");
}

TEST_CASE("a file that cannot be created is an error that stops the restore", "[restore][pool]") {
  TempDir dir;
  engine::FileWritePool pool({});
  pool.begin(dir.path() / "missing-dir" / "f", file_meta(1, 0644, 0), 1);
  pool.feed(util::Bytes{'a'});
  pool.wait_idle();
  auto done = pool.take_finished();
  REQUIRE(done.size() == 1);
  REQUIRE_FALSE(done[0].status);
  CHECK(done[0].status.error().kind != util::ErrorKind::verification);
  CHECK(done[0].status.error().message.find("creating") != std::string::npos);
}

TEST_CASE("a file whose chunks add up to another size is not restored", "[restore][pool]") {
  TempDir dir;
  engine::FileWritePool pool({});
  pool.begin(dir.path() / "short", file_meta(10, 0644, 0), 1);
  pool.feed(util::Bytes{'a', 'b'});
  pool.wait_idle();
  auto done = pool.take_finished();
  REQUIRE(done.size() == 1);
  CHECK_FALSE(done[0].status);
  CHECK_FALSE(fs::exists(dir.path() / "short"));
}

TEST_CASE("a pool destroyed mid-file leaves no temporary file", "[restore][pool]") {
  TempDir dir;
  {
    engine::FileWritePool pool({});
    pool.begin(dir.path() / "cut", file_meta(4, 0644, 0), 2);
    pool.feed(util::Bytes{'a', 'b'});
    // The second chunk never comes: the restore failed elsewhere.
  }
  CHECK(fs::is_empty(dir.path()));
}

TEST_CASE("files are numbered as begun, and finished_below waits for the unfinished",
          "[restore][pool]") {
  TempDir dir;
  engine::FileWritePool pool({});
  CHECK(pool.begun() == 0);
  CHECK(pool.finished_below() == 0);
  // Workers are woken for batches of files: eight, then one more.
  for (int f = 0; f < 8; ++f) {
    pool.begin(dir.path() / ("f" + std::to_string(f)), file_meta(1, 0644, 0), 1);
    pool.feed(util::Bytes{'a'});
  }
  pool.begin(dir.path() / "second", file_meta(2, 0644, 0), 2);
  pool.feed(util::Bytes{'b'});  // its last chunk is held back: it cannot finish
  CHECK(pool.begun() == 9);
  std::size_t finished = 0;
  for (int i = 0; i < 2000 && finished < 8; ++i) {
    finished += pool.take_finished().size();
    if (finished < 8) ::usleep(1000);
  }
  REQUIRE(finished == 8);
  CHECK(pool.finished_below() == 8);
  pool.feed(util::Bytes{'c'});
  pool.wait_idle();
  CHECK(pool.finished_below() == 9);
  CHECK(pool.begun() == 9);
  CHECK(slurp(dir.path() / "second") == "bc");
}
