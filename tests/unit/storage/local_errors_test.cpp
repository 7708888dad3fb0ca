// The local backend's error paths: full disk, permissions, odd files. Each
// error must be an ErrorKind::io (or not_found) that names the object.
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <string>

#include "as_nobody.hpp"
#include "storage/local.hpp"
#include "test_tmpdir.hpp"

using namespace bkp;
using storage::LocalBackend;
using storage::WriteMode;
using util::ErrorKind;
namespace fs = std::filesystem;

namespace {

template <class R>
void expect_error(const R& r, ErrorKind kind, std::string_view in_message) {
  REQUIRE_FALSE(r.ok());
  INFO("message: " << r.error().message);
  CHECK(util::kind_name(r.error().kind) == util::kind_name(kind));
  CHECK(r.error().message.find(in_message) != std::string::npos);
}

util::Status list_count(storage::Backend& b, std::string_view prefix, std::size_t& n) {
  n = 0;
  return b.list(prefix, [&](const storage::ObjectInfo&) -> util::Status {
    ++n;
    return {};
  });
}

}  // namespace

TEST_CASE("a full disk is an io error naming the object, and leaves no trace", "[storage][local]") {
  test::TempDir dir;
  fs::path mnt = dir.path() / "small";
  fs::create_directory(mnt);
  if (::mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=1m,mode=0700") != 0) {
    std::cout << "BKP-SKIP: cannot mount a 1 MiB tmpfs (" << std::strerror(errno)
              << "): full-disk test skipped\n";
    return;
  }
  struct Unmount {
    fs::path p;
    ~Unmount() { ::umount2(p.c_str(), MNT_DETACH); }
  } unmount{mnt};

  LocalBackend b(mnt / "repo");
  REQUIRE(b.put("config", util::as_bytes("small"), WriteMode::create_only).ok());
  const util::Bytes big(std::size_t{2} << 20, 0x5a);
  for (WriteMode mode : {WriteMode::overwrite, WriteMode::create_only}) {
    auto st = b.put("data/ab/big", big, mode);
    expect_error(st, ErrorKind::io, "storing 'data/ab/big'");
    CHECK(st.error().message.find(std::strerror(ENOSPC)) != std::string::npos);
  }
  // Overwriting an existing object with too much data keeps the old one.
  expect_error(b.put("config", big, WriteMode::overwrite), ErrorKind::io, "'config'");
  CHECK(util::as_chars(*b.get("config")) == "small");
  std::size_t n = 0;
  REQUIRE(list_count(b, "", n).ok());
  CHECK(n == 1);
  for (const auto& e : fs::recursive_directory_iterator(mnt)) {
    CHECK(e.path().filename().string().find(".tmp-") == std::string::npos);
  }
  // Space comes back once the failed writes are gone.
  REQUIRE(b.put("data/ab/fits", util::Bytes(100 << 10, 1), WriteMode::create_only).ok());
}

TEST_CASE("a path through a regular file is an io error naming the object", "[storage][local]") {
  test::TempDir dir;
  LocalBackend b(dir.path());
  REQUIRE(b.put("blocker", util::as_bytes("file"), WriteMode::overwrite).ok());
  expect_error(b.put("blocker/x", util::as_bytes("y"), WriteMode::overwrite), ErrorKind::io,
               "storing 'blocker/x'");
  expect_error(b.put("blocker/deeper/x", util::as_bytes("y"), WriteMode::create_only),
               ErrorKind::io, "storing 'blocker/deeper/x'");
  // Reading through it finds nothing; removing it is a no-op.
  expect_error(b.get("blocker/x"), ErrorKind::not_found, "'blocker/x'");
  CHECK(b.remove("blocker/x").ok());
  std::size_t n = 0;
  REQUIRE(list_count(b, "blocker/", n).ok());
  CHECK(n == 0);

  // The root itself is a regular file.
  LocalBackend bad(dir.path() / "blocker");
  expect_error(bad.put("x", util::as_bytes("y"), WriteMode::overwrite), ErrorKind::io,
               "storing 'x'");
  expect_error(list_count(bad, "", n), ErrorKind::io, "listing ''");
  expect_error(bad.stat("x"), ErrorKind::not_found, "'x'");
}

TEST_CASE("a root that does not exist yet is an empty repository", "[storage][local]") {
  test::TempDir dir;
  LocalBackend b(dir.path() / "not" / "yet");
  std::size_t n = 1;
  REQUIRE(list_count(b, "", n).ok());
  CHECK(n == 0);
  REQUIRE(list_count(b, "data/ab/", n).ok());
  expect_error(b.get("config"), ErrorKind::not_found, "'config'");
  CHECK(b.remove("config").ok());
  CHECK_FALSE(fs::exists(dir.path() / "not"));
}

TEST_CASE("files that are not objects are refused or skipped, never hang", "[storage][local]") {
  test::TempDir dir;
  LocalBackend b(dir.path());
  REQUIRE(b.put("data/real", util::as_bytes("x"), WriteMode::overwrite).ok());
  REQUIRE(::mkfifo((dir.path() / "data" / "fifo").c_str(), 0600) == 0);
  expect_error(b.get("data/fifo"), ErrorKind::io, "reading 'data/fifo'");
  expect_error(b.get_range("data/fifo", 0, 0), ErrorKind::io, "reading 'data/fifo'");
  expect_error(b.stat("data/fifo"), ErrorKind::io, "inspecting 'data/fifo'");
  std::size_t n = 0;
  REQUIRE(list_count(b, "data/", n).ok());
  CHECK(n == 1);
  // A directory named like an object is not one.
  expect_error(b.stat("data"), ErrorKind::not_found, "'data'");
  CHECK(b.remove("data").ok());
  CHECK(b.stat("data/real").ok());
}

TEST_CASE("a symlink loop makes list fail instead of recursing forever", "[storage][local]") {
  test::TempDir dir;
  LocalBackend b(dir.path());
  REQUIRE(b.put("data/ab/x", util::as_bytes("x"), WriteMode::overwrite).ok());
  fs::create_directory_symlink("..", dir.path() / "data" / "ab" / "loop");
  std::size_t n = 0;
  expect_error(list_count(b, "data/", n), ErrorKind::io, "nested too deeply");
  // Prefixes that do not enter the loop still list.
  REQUIRE(list_count(b, "data/ab/x", n).ok());
  CHECK(n == 1);
}

namespace {

// Runs the permission checks, as the current user, on a repository it may
// enter but not write into; returns a description of every failed check.
std::string permission_failures(const fs::path& root) {
  std::string failures;
  LocalBackend b(root);
  auto check = [&](const char* what, const auto& r, std::string_view name) {
    if (r.ok()) {
      failures += std::string(what) + " succeeded; ";
    } else if (r.error().kind != ErrorKind::io ||
               r.error().message.find("'" + std::string(name) + "'") == std::string::npos ||
               r.error().message.find(std::strerror(EACCES)) == std::string::npos) {
      failures += std::string(what) + ": " + r.error().message + "; ";
    }
  };
  check("put", b.put("new", util::as_bytes("x"), WriteMode::overwrite), "new");
  check("put nested", b.put("data/ab/new", util::as_bytes("x"), WriteMode::create_only),
        "data/ab/new");
  check("get", b.get("data/ab/obj"), "data/ab/obj");
  check("get_range", b.get_range("data/ab/obj", 0, 1), "data/ab/obj");
  check("stat", b.stat("data/ab/obj"), "data/ab/obj");
  check("remove", b.remove("data/ab/obj"), "data/ab/obj");
  std::size_t n = 0;
  check("list", list_count(b, "", n), "");
  check("list prefix", list_count(b, "data/ab/", n), "data/ab/");
  return failures;
}

}  // namespace

TEST_CASE("permission errors are io errors naming the object", "[storage][local]") {
  test::TempDir dir;
  fs::path root = dir.path() / "repo";
  LocalBackend b(root);
  REQUIRE(b.put("data/ab/obj", util::as_bytes("secret"), WriteMode::overwrite).ok());
  // Others may enter the repository but neither write it nor enter data/.
  fs::permissions(dir.path(), fs::perms(0755));
  fs::permissions(root, fs::perms(0755));

  std::string failures;
  if (::geteuid() != 0) {
    fs::permissions(root / "data", fs::perms(0300));
    failures = permission_failures(root);
    fs::permissions(root / "data", fs::perms(0700));
  } else {
    // Root bypasses permission checks: run them as 'nobody' in a child.
    failures = test::as_nobody([&] { return permission_failures(root); });
  }
  CHECK(failures == "");
  CHECK(util::as_chars(*b.get("data/ab/obj")) == "secret");
}
