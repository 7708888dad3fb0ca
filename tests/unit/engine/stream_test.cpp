// backup_stream from a pipe and from a command; a failing command writes no
// snapshot; restore_to_stream gives the bytes back.
#include <fcntl.h>
#include <unistd.h>

#include <csignal>
#include <thread>

#include "crypto/hash.hpp"
#include "engine/snapshots.hpp"
#include "engine_fixture.hpp"

using namespace bkp;
using namespace bkp::test;

namespace {

// Everything restore_to_stream writes for `path`, through a pipe.
util::Bytes restored_bytes(repo::Repository& repo, const repo::Snapshot& snap,
                           const std::string& path, util::Status* status_out = nullptr) {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  util::Bytes out;
  std::thread reader([&] {
    std::uint8_t buf[65536];
    ssize_t n;
    while ((n = ::read(fds[0], buf, sizeof buf)) > 0) out.insert(out.end(), buf, buf + n);
  });
  auto st = engine::restore_to_stream(repo, snap, path, fds[1]);
  ::close(fds[1]);
  reader.join();
  ::close(fds[0]);
  if (status_out) {
    *status_out = st;
  } else {
    REQUIRE_OK(st);
  }
  return out;
}

std::size_t snapshot_rows(repo::Repository& repo) {
  auto rows = repo.catalog().list_backups();
  REQUIRE_OK(rows);
  return rows->size();
}

}  // namespace

TEST_CASE("a stream from a pipe", "[stream]") {
  RepoFixture f;
  const auto data = random_bytes(5 << 20, 11);
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  std::thread writer([&] {
    std::size_t off = 0;
    while (off < data.size()) {
      ssize_t n =
          ::write(fds[1], data.data() + off, std::min<std::size_t>(100000, data.size() - off));
      if (n <= 0) break;
      off += static_cast<std::size_t>(n);
    }
    ::close(fds[1]);
  });
  engine::StreamBackupOptions o;
  o.name = "dump.sql";
  o.input_fd = fds[0];
  o.tags = {"db"};
  std::uint64_t last = 0;
  auto r = engine::backup_stream(f.repo(), o, [&](const engine::BackupProgress& p) {
    CHECK(p.current == "dump.sql");
    last = p.bytes_read;
  });
  writer.join();
  ::close(fds[0]);
  REQUIRE_OK(r);
  CHECK(last == data.size());
  const auto& snap = r->snapshot;
  CHECK(snap.source_kind == "stdin");
  CHECK(snap.source_name == "dump.sql");
  CHECK(snap.tags == std::vector<std::string>{"db"});
  CHECK(snap.stats["total_bytes"] == data.size());
  CHECK(snap.stats["sha256"] == util::to_hex(crypto::sha256(data)));
  CHECK(snap.stats["raw_bytes_new"].get<std::uint64_t>() >= data.size());
  CHECK_FALSE(snap.extra.contains("command"));
  auto row = f.repo().catalog().get_backup(snap.id);
  REQUIRE_OK(row);
  REQUIRE(row->has_value());
  CHECK((*row)->checksum == util::to_hex(crypto::sha256(data)));

  CHECK(restored_bytes(f.repo(), snap, "/dump.sql") == data);

  SECTION("the same stream again stores nothing new but its tree") {
    int p2[2];
    REQUIRE(::pipe(p2) == 0);
    std::thread w2([&] {
      std::size_t off = 0;
      while (off < data.size()) {
        ssize_t n = ::write(p2[1], data.data() + off, data.size() - off);
        if (n <= 0) break;
        off += static_cast<std::size_t>(n);
      }
      ::close(p2[1]);
    });
    o.input_fd = p2[0];
    auto again = engine::backup_stream(f.repo(), o);
    w2.join();
    ::close(p2[0]);
    REQUIRE_OK(again);
    CHECK(again->snapshot.stats["raw_bytes_new"].get<std::uint64_t>() < 4096);
    CHECK(again->snapshot.stats["blobs_new"] == 1);
  }

  SECTION("restore_to_stream refuses what is not a file") {
    util::Status st;
    restored_bytes(f.repo(), snap, "/other", &st);
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().kind == util::ErrorKind::not_found);
    restored_bytes(f.repo(), snap, "/", &st);
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().kind == util::ErrorKind::usage);
    restored_bytes(f.repo(), snap, "/dump.sql/below", &st);
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().kind == util::ErrorKind::not_found);
  }

  SECTION("restore_to_stream of a directory") {
    const fs::path dir = f.root() / "dir";
    fs::create_directories(dir);
    auto files = f.backup({dir}).snapshot;
    util::Status st;
    restored_bytes(f.repo(), files, dir.string(), &st);
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().kind == util::ErrorKind::usage);
    CHECK(st.error().message == "'" + dir.string() + "' is a dir, not a file");
  }

  SECTION("restore_to_stream to a closed descriptor fails") {
    int p[2];
    REQUIRE(::pipe(p) == 0);
    ::close(p[0]);
    ::signal(SIGPIPE, SIG_IGN);
    auto st = engine::restore_to_stream(f.repo(), snap, "/dump.sql", p[1]);
    ::close(p[1]);
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().kind == util::ErrorKind::io);
    CHECK(st.error().message.find("writing the output") != std::string::npos);
  }
}

TEST_CASE("a stream from a command", "[stream]") {
  RepoFixture f;

  SECTION("its output is the snapshot's content") {
    engine::StreamBackupOptions o;
    o.name = "out.txt";
    o.command = {"/bin/sh", "-c", "printf 'line one\\nline two\\n'"};
    auto r = engine::backup_stream(f.repo(), o);
    REQUIRE_OK(r);
    const std::string expected = "line one\nline two\n";
    CHECK(r->snapshot.stats["total_bytes"] == expected.size());
    CHECK(r->snapshot.stats["sha256"] == util::to_hex(crypto::sha256(util::as_bytes(expected))));
    CHECK(r->snapshot.extra["command"] == nlohmann::json(o.command));
    auto back = restored_bytes(f.repo(), r->snapshot, "/out.txt");
    CHECK(std::string(back.begin(), back.end()) == expected);

    // Restored into a directory, it is a 0600 file of the current user.
    auto restored = f.restore(r->snapshot, f.root() / "restore");
    CHECK(restored.files == 1);
    CHECK(read_text(f.root() / "restore" / "out.txt") == expected);
    CHECK((fs::status(f.root() / "restore" / "out.txt").permissions() & fs::perms::all) ==
          (fs::perms::owner_read | fs::perms::owner_write));
  }

  SECTION("an empty output is an empty file") {
    engine::StreamBackupOptions o;
    o.name = "empty";
    o.command = {"/bin/true"};
    auto r = engine::backup_stream(f.repo(), o);
    REQUIRE_OK(r);
    CHECK(r->snapshot.stats["total_bytes"] == 0);
    CHECK(r->snapshot.stats["sha256"] ==
          "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(restored_bytes(f.repo(), r->snapshot, "/empty").empty());
  }

  SECTION("a failing command writes no snapshot") {
    engine::StreamBackupOptions o;
    o.name = "dump";
    o.command = {"/bin/sh", "-c", "echo partial; exit 3"};
    auto r = engine::backup_stream(f.repo(), o);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("exited with status 3") != std::string::npos);
    CHECK(r.error().message.find("no snapshot written") != std::string::npos);
    CHECK(f.objects("snapshots/").empty());
    CHECK(snapshot_rows(f.repo()) == 0);
    // Nor after a reopen that syncs the catalog with storage.
    f.reopen(true);
    REQUIRE_OK(f.repo().sync_catalog());
    CHECK(snapshot_rows(f.repo()) == 0);
  }

  SECTION("a command killed by a signal") {
    engine::StreamBackupOptions o;
    o.name = "dump";
    o.command = {"/bin/sh", "-c", "printf data; kill -9 $$"};
    auto r = engine::backup_stream(f.repo(), o);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("killed by signal 9") != std::string::npos);
    CHECK(f.objects("snapshots/").empty());
  }

  SECTION("a command that does not exist") {
    engine::StreamBackupOptions o;
    o.name = "dump";
    o.command = {"/nonexistent/command"};
    auto r = engine::backup_stream(f.repo(), o);
    REQUIRE_FALSE(r.ok());
    CHECK(f.objects("snapshots/").empty());
    CHECK(snapshot_rows(f.repo()) == 0);
  }

  SECTION("a storage failure stops the command") {
    RepoFixture small(small_options());
    write_file(small.storage() / "data", "in the way");  // every pack write fails
    engine::StreamBackupOptions o;
    o.name = "endless";
    o.command = {"/bin/sh", "-c", "exec cat /dev/urandom"};
    auto r = engine::backup_stream(small.repo(), o);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("storing 'data/") == 0);
    CHECK(small.objects("snapshots/").empty());
  }

  SECTION("a name is required and may not hold a slash") {
    engine::StreamBackupOptions o;
    o.command = {"/bin/true"};
    for (auto name : {"", "a/b", "/abs"}) {
      o.name = name;
      auto r = engine::backup_stream(f.repo(), o);
      REQUIRE_FALSE(r.ok());
      CHECK(r.error().kind == util::ErrorKind::usage);
    }
  }

  SECTION("a read error on the input") {
    engine::StreamBackupOptions o;
    o.name = "bad";
    o.input_fd = ::open("/", O_RDONLY | O_DIRECTORY);  // read(2) fails with EISDIR
    REQUIRE(o.input_fd >= 0);
    auto r = engine::backup_stream(f.repo(), o);
    ::close(o.input_fd);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == util::ErrorKind::io);
    CHECK(r.error().message.find("reading the stream") != std::string::npos);
    CHECK(f.objects("snapshots/").empty());
  }
}
