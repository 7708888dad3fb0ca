// The local backend: the conformance suite, plus what only a directory has
// (file modes, temporary files, crashes, open_backend parsing).
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "bkp_build_config.hpp"
#include "conformance.hpp"
#include "storage/local.hpp"
#include "test_tmpdir.hpp"

using namespace bkp;
using storage::LocalBackend;
using storage::WriteMode;
using util::ErrorKind;
namespace fs = std::filesystem;

namespace {

// Every regular file under `dir`, relative, including temporary ones.
std::set<std::string> files_on_disk(const fs::path& dir) {
  std::set<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) out.insert(fs::relative(e.path(), dir).string());
  }
  return out;
}

std::set<std::string> listed(storage::Backend& b, std::string_view prefix = "") {
  std::set<std::string> out;
  auto st = b.list(prefix, [&](const storage::ObjectInfo& info) -> util::Status {
    out.insert(info.name);
    return {};
  });
  INFO((st.ok() ? "" : st.error().message));
  REQUIRE(st.ok());
  return out;
}

mode_t mode_of(const fs::path& p) {
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

void write_raw(const fs::path& p, std::string_view content) {
  std::ofstream(p, std::ios::binary) << content;
}

util::Bytes filled(std::size_t size, std::uint8_t value) { return util::Bytes(size, value); }

}  // namespace

TEST_CASE("local backend passes the conformance suite", "[storage][local]") {
  test::TempDir dir;
  // A root that does not exist yet: the first put creates it.
  test::run_backend_conformance(
      [&] { return std::make_unique<LocalBackend>(dir.path() / "repo"); });
}

TEST_CASE("a backend from open_backend(file://) passes the conformance suite", "[storage][local]") {
  test::TempDir dir;
  test::ConformanceOptions small;
  small.large_object_size = 3 << 20;
  small.many_objects = 300;
  test::run_backend_conformance(
      [&] {
        auto b = storage::open_backend("file://" + (dir.path() / "repo").string());
        REQUIRE(b.ok());
        return std::move(b).value();
      },
      small);
}

TEST_CASE("objects are 0600 files in 0700 directories", "[storage][local]") {
  test::TempDir dir;
  fs::path root = dir.path() / "new" / "repo";
  LocalBackend b(root);
  REQUIRE(b.put("data/ab/obj", util::as_bytes("x"), WriteMode::overwrite).ok());
  REQUIRE(b.put("config", util::as_bytes("x"), WriteMode::create_only).ok());
  CHECK(mode_of(root / "data" / "ab" / "obj") == 0600);
  CHECK(mode_of(root / "config") == 0600);
  CHECK(mode_of(root / "data" / "ab") == 0700);
  CHECK(mode_of(root / "data") == 0700);
  CHECK(mode_of(root) == 0700);
  CHECK(mode_of(dir.path() / "new") == 0700);
  CHECK(b.describe() == root.string());
  CHECK(b.kind() == "local");
}

TEST_CASE("puts leave no temporary files behind", "[storage][local]") {
  test::TempDir dir;
  LocalBackend b(dir.path());
  for (int i = 0; i < 20; ++i) {
    std::string name = "data/" + std::to_string(i % 3) + "/obj" + std::to_string(i);
    REQUIRE(b.put(name, util::as_bytes("v1"), WriteMode::create_only).ok());
    REQUIRE(b.put(name, util::as_bytes("v2"), WriteMode::overwrite).ok());
    REQUIRE_FALSE(b.put(name, util::as_bytes("v3"), WriteMode::create_only).ok());
  }
  auto files = files_on_disk(dir.path());
  CHECK(files.size() == 20);
  for (const auto& f : files) CHECK(f.find(".tmp-") == std::string::npos);
  CHECK(files == listed(b));
}

TEST_CASE("a temporary file left by a crash is neither listed nor served", "[storage][local]") {
  test::TempDir dir;
  LocalBackend b(dir.path());
  REQUIRE(b.put("x", util::as_bytes("real"), WriteMode::overwrite).ok());
  REQUIRE(b.put("data/ab/y", util::as_bytes("real y"), WriteMode::overwrite).ok());
  write_raw(dir.path() / "x.tmp-abcdefabcdef", "half writ");
  write_raw(dir.path() / "data" / "ab" / "y.tmp-0123456789ab", "half");
  write_raw(dir.path() / "data" / "ab" / "z.tmp-zzzzzzzzzzzz", "no object z at all");

  CHECK(listed(b) == std::set<std::string>{"x", "data/ab/y"});
  CHECK(listed(b, "x") == std::set<std::string>{"x"});
  CHECK(listed(b, "data/ab/") == std::set<std::string>{"data/ab/y"});
  CHECK(listed(b, "data/ab/z").empty());
  CHECK(util::as_chars(*b.get("x")) == "real");
  CHECK(b.stat("x")->size == 4);
  CHECK(b.get("x.tmp-abcdefabcdef").error().kind == ErrorKind::usage);
  CHECK(b.stat("data/ab/y.tmp-0123456789ab").error().kind == ErrorKind::usage);
  // The next write of the same object works and still lists once.
  REQUIRE(b.put("x", util::as_bytes("newer"), WriteMode::overwrite).ok());
  CHECK(util::as_chars(*b.get("x")) == "newer");
  CHECK(listed(b) == std::set<std::string>{"x", "data/ab/y"});
  // Names that only look similar are ordinary objects.
  write_raw(dir.path() / "x.tmp-ABCDEFABCDEF", "upper case");
  write_raw(dir.path() / "x.tmp-abc", "short");
  CHECK(listed(b, "x.") == std::set<std::string>{"x.tmp-ABCDEFABCDEF", "x.tmp-abc"});
}

TEST_CASE("a put killed at any moment leaves the old or the new object", "[storage][local]") {
  test::TempDir dir;
  LocalBackend b(dir.path());
  const util::Bytes small = filled(1000, 0x11);
  const util::Bytes big = filled(std::size_t{24} << 20, 0x22);
  REQUIRE(b.put("data/obj", small, WriteMode::overwrite).ok());
  std::size_t leftovers = 0;
  for (int round = 0; round < 8; ++round) {
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      LocalBackend writer(dir.path());
      for (;;) {
        (void)writer.put("data/obj", big, WriteMode::overwrite);
        (void)writer.put("data/obj", small, WriteMode::overwrite);
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5 + 13 * round));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    CHECK(WIFSIGNALED(status));

    auto got = b.get("data/obj");
    REQUIRE(got.ok());
    INFO("round " << round << ", size " << got->size());
    CHECK((*got == small || *got == big));
    CHECK(listed(b) == std::set<std::string>{"data/obj"});
    auto files = files_on_disk(dir.path());
    leftovers += files.size() - 1;
    for (const auto& f : files) {
      if (f != "data/obj") fs::remove(dir.path() / f);  // as a cleanup job would
    }
  }
  // Most kills land mid-write (writing 24 MiB dominates the loop); at least
  // one must have left a temporary file, or this test proved nothing.
  CHECK(leftovers >= 1);
}

TEST_CASE("open_backend parses locations", "[storage][local]") {
  auto root_of = [](std::string_view location) -> std::string {
    auto b = storage::open_backend(location);
    INFO(location << ": " << (b.ok() ? "" : b.error().message));
    REQUIRE(b.ok());
    CHECK((*b)->kind() == "local");
    auto* local = dynamic_cast<LocalBackend*>(b->get());
    REQUIRE(local != nullptr);
    CHECK(local->describe() == local->root().string());
    return local->root().string();
  };
  CHECK(root_of("/srv/backup") == "/srv/backup");
  CHECK(root_of("/srv/backup//") == "/srv/backup");
  CHECK(root_of("/") == "/");
  CHECK(root_of("relative/repo") == (fs::current_path() / "relative/repo").string());
  CHECK(root_of("./odd:name") == (fs::current_path() / "./odd:name").string());
  // Not a URL scheme ('_' is not allowed in one), so a relative path.
  CHECK(root_of("my_repo://x") == (fs::current_path() / "my_repo://x").string());
  CHECK(root_of("file:///srv/backup") == "/srv/backup");
  CHECK(root_of("FILE:///srv/backup/") == "/srv/backup");
  CHECK(root_of("file://localhost/srv/backup") == "/srv/backup");
  CHECK(root_of("file:///srv/with%20percent") == "/srv/with%20percent");

  auto usage = [](std::string_view location, std::string_view message) {
    auto b = storage::open_backend(location);
    INFO(location);
    REQUIRE_FALSE(b.ok());
    CHECK(b.error().kind == ErrorKind::usage);
    CHECK(b.error().message == message);
  };
  usage("", "no repository given: use -r/--repo or BKP_REPOSITORY");
  usage("swift://bucket/prefix", "storage backend 'swift' is not built into this bkp");
#if BKP_HAVE_AZURE
  // Built in: it needs an account before anything else (none in the test's
  // environment).
  if (std::getenv("AZURE_STORAGE_ACCOUNT") == nullptr &&
      std::getenv("AZURE_STORAGE_CONNECTION_STRING") == nullptr) {
    usage("azure://container",
          "opening 'azure://container': no Azure storage account: set azure.account or "
          "AZURE_STORAGE_ACCOUNT");
  }
#else
  usage("azure://container", "storage backend 'azure' is not built into this bkp");
#endif
#if BKP_HAVE_GCS
  if (std::getenv("GOOGLE_APPLICATION_CREDENTIALS") == nullptr &&
      std::getenv("GCS_HMAC_ACCESS_KEY_ID") == nullptr) {
    usage("gs://bucket",
          "opening 'gs://bucket': no GCS credentials: set GOOGLE_APPLICATION_CREDENTIALS (or "
          "gcs.credentials_file) to a service account key file, or GCS_HMAC_ACCESS_KEY_ID and "
          "GCS_HMAC_SECRET to HMAC keys");
  }
#else
  usage("gs://bucket", "storage backend 'gs' is not built into this bkp");
#endif
  usage("HTTPS://host/x", "storage backend 'https' is not built into this bkp");
  usage("sftp+ssh://host/x", "storage backend 'sftp+ssh' is not built into this bkp");
  const std::string need_abs =
      "': a file:// location needs an absolute path, as in "
      "file:///srv/backup";
  usage("file://host/srv", "opening repository 'file://host/srv" + need_abs);
  usage("file://", "opening repository 'file://" + need_abs);
  usage("file://localhost", "opening repository 'file://localhost" + need_abs);
  usage("file://relative", "opening repository 'file://relative" + need_abs);
}
