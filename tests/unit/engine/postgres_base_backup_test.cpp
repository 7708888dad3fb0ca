// The parts of base backups over the replication protocol that need no
// server: entries arriving in any order become the tree a file walk would
// build, the manifest check, and --pg-via.
#include <sys/stat.h>

#include <cstdio>
#include <cstring>

#include "engine/content.hpp"
#include "engine/member_tree.hpp"
#include "engine/postgres_base_backup.hpp"
#include "engine/postgres_physical.hpp"
#include "engine/restore.hpp"
#include "engine_fixture.hpp"
#include "util/crc32c.hpp"

using namespace bkp;
using namespace bkp::test;

namespace {

sources::Node node(sources::NodeType type, std::uint32_t mode, std::int64_t mtime_s) {
  sources::Node n;
  n.type = type;
  n.mode = mode;
  n.uid = ::geteuid();
  n.gid = ::getegid();
  n.mtime_ns = n.ctime_ns = n.atime_ns = mtime_s * 1'000'000'000;
  return n;
}

// Stores `text` as a file's content, as the tar reader does.
engine::StoredContent stored(repo::Repository& repo, const std::string& text) {
  std::size_t at = 0;
  auto r = engine::store_stream(
      repo,
      [&](std::uint8_t* buf, std::size_t cap) -> util::Result<std::size_t> {
        auto n = std::min(cap, text.size() - at);
        std::memcpy(buf, text.data() + at, n);
        at += n;
        return n;
      },
      engine::Checksum::no);
  REQUIRE_OK(r);
  return *r;
}

void add_file(engine::MemberTree& tree, repo::Repository& repo, const std::string& path,
              const std::string& text, std::uint32_t mode = 0600) {
  auto n = node(sources::NodeType::file, mode, 1'700'000'000);
  n.size = text.size();
  REQUIRE_OK(tree.add(path, n, stored(repo, text)));
}

// A data directory's members in the order a server sends them: not sorted,
// global/pg_control last, directories before and after their contents.
std::shared_ptr<engine::MemberTree> server_order(repo::Repository& repo, const std::string& big) {
  auto tree = std::make_shared<engine::MemberTree>();
  REQUIRE_OK(tree->add_root("/pg/data", node(sources::NodeType::dir, 0700, 1'700'000'000)));
  add_file(*tree, repo, "/pg/data/PG_VERSION", "15\n");
  REQUIRE_OK(tree->add("/pg/data/pg_wal", node(sources::NodeType::dir, 0700, 1'700'000'001)));
  add_file(*tree, repo, "/pg/data/base/1/1259", big);
  REQUIRE_OK(tree->add("/pg/data/base", node(sources::NodeType::dir, 0750, 1'700'000'002)));
  auto link = node(sources::NodeType::symlink, 0777, 1'700'000'000);
  link.link_target = "/srv/space";
  REQUIRE_OK(tree->add("/pg/data/pg_tblspc/16385", link));
  add_file(*tree, repo, "/pg/data/global/pg_control", "control");
  add_file(*tree, repo, "/pg/data/base-x", "sorts between base and global");
  REQUIRE_OK(tree->add_root("/srv/space", node(sources::NodeType::dir, 0700, 1'700'000'000)));
  add_file(*tree, repo, "/srv/space/PG_15_202209061/5/16386", "in a tablespace");
  return tree;
}

engine::FileBackupOptions options_for(std::shared_ptr<engine::MemberTree> tree) {
  engine::FileBackupOptions fo;
  fo.entries = std::move(tree);
  fo.paths = {"/srv/space", "/pg/data/"};
  fo.source_name = "postgres-physical:test:/pg/data";
  fo.source_kind = "postgres";
  return fo;
}

}  // namespace

TEST_CASE("entries in any order make the tree a walk would; restore gives them back",
          "[postgres][replication]") {
  RepoFixture fx;
  REQUIRE_OK(fx.repo().sync_catalog());
  const std::string big(300'000, 'x');
  auto before = fx.repo().write_stats();
  auto fo = options_for(server_order(fx.repo(), big));
  fo.written_before = before;  // the contents were stored before backup_files
  auto report = engine::backup_files(fx.repo(), fo);
  REQUIRE_OK(report);
  const auto& snap = report->snapshot;
  CHECK(snap.paths == std::vector<std::string>{"/pg/data", "/srv/space"});
  CHECK(snap.stats["files_new"] == 5);
  CHECK(snap.stats["other"] == 1);  // the symlink
  CHECK(snap.stats["total_bytes"] == 3 + big.size() + 7 + 29 + 15);
  CHECK(snap.stats["raw_bytes_new"].get<std::uint64_t>() > big.size() / 2);

  auto target = fx.root() / "out";
  engine::RestoreOptions ro;
  ro.target = target;
  ro.root = "/pg/data";
  REQUIRE_OK(engine::restore_to_directory(fx.repo(), snap, ro));
  CHECK(read_text(target / "PG_VERSION") == "15\n");
  CHECK(read_text(target / "base" / "1" / "1259") == big);
  CHECK(read_text(target / "global" / "pg_control") == "control");
  CHECK(fs::read_symlink(target / "pg_tblspc" / "16385") == "/srv/space");
  CHECK(fs::is_directory(target / "pg_wal"));
  CHECK(fs::is_empty(target / "pg_wal"));
  struct stat st {};
  REQUIRE(::stat((target / "base").c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0750);  // named by its member, after its contents
  REQUIRE(::stat((target / "global").c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0700);  // never named: made up
  CHECK(mtime_of(target / "PG_VERSION") == 1'700'000'000'000'000'000);

  // The same again: every file unmodified, nothing new stored.
  before = fx.repo().write_stats();
  fo = options_for(server_order(fx.repo(), big));
  fo.written_before = before;
  auto again = engine::backup_files(fx.repo(), fo);
  REQUIRE_OK(again);
  CHECK(again->snapshot.parent == snap.id);
  CHECK(again->snapshot.stats["files_unmodified"] == 5);
  CHECK(again->snapshot.stats["raw_bytes_new"] == 0);
  CHECK(again->snapshot.tree == snap.tree);
}

TEST_CASE("a member tree refuses a path given twice and paths below files",
          "[postgres][replication]") {
  engine::MemberTree tree;
  auto file = node(sources::NodeType::file, 0600, 1);
  auto dir = node(sources::NodeType::dir, 0700, 1);
  REQUIRE_OK(tree.add("/d/a", file));
  CHECK(tree.add("/d/a", file).error().kind == util::ErrorKind::corrupt);
  CHECK(!tree.add("/d/a/b", file));
  REQUIRE_OK(tree.add("/d", dir));  // made up for /d/a, now named
  CHECK(!tree.add("/d", dir));
  CHECK(!tree.add("relative", file));
  CHECK(tree.contains("/d/a"));
  CHECK(!tree.contains("/d/b"));
}

TEST_CASE("the manifest check: sizes, CRC-32C, nothing missing, nothing extra",
          "[postgres][replication]") {
  engine::ReceivedBaseBackup got;
  auto crc = [](const std::string& s) {
    util::Crc32c c;
    c.update(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
    return c.value();
  };
  got.files["PG_VERSION"] = {3, crc("15\n")};
  got.files["pg_tblspc/16385/PG_15_1/x"] = {5, crc("hello")};
  auto hex = [](std::uint32_t v) {  // the bytes as they lie in memory
    char out[9];
    std::snprintf(out, sizeof out, "%02x%02x%02x%02x", v & 0xFF, (v >> 8) & 0xFF, (v >> 16) & 0xFF,
                  v >> 24);
    return std::string(out);
  };
  auto manifest = [&](const std::string& files) {
    return "{\"PostgreSQL-Backup-Manifest-Version\": 1,\n\"Files\": [" + files +
           "],\n\"WAL-Ranges\": []}";
  };
  const std::string a =
      "{\"Path\": \"PG_VERSION\", \"Size\": 3, \"Checksum-Algorithm\": "
      "\"CRC32C\", \"Checksum\": \"" +
      hex(crc("15\n")) + "\"}";
  const std::string b = "{\"Path\": \"pg_tblspc/16385/PG_15_1/x\", \"Size\": 5}";
  got.manifest = manifest(a + ",\n" + b);
  REQUIRE_OK(engine::check_against_manifest(got));
  // Encoded-Path: the name in hex.
  got.manifest = manifest(a + ",\n{\"Encoded-Path\": \"" +
                          std::string("70675f74626c7370632f31363338352f50475f31355f312f78") +
                          "\", \"Size\": 5}");
  REQUIRE_OK(engine::check_against_manifest(got));

  auto fails = [&](const std::string& m, const std::string& says) {
    got.manifest = m;
    auto r = engine::check_against_manifest(got);
    REQUIRE(!r);
    CHECK(r.error().kind == util::ErrorKind::verification);
    CHECK(r.error().message.find(says) != std::string::npos);
  };
  fails(manifest(a), "'pg_tblspc/16385/PG_15_1/x' arrived but is not listed");
  fails(manifest(a + "," + b + ",{\"Path\": \"global/pg_control\", \"Size\": 8192}"),
        "'global/pg_control' is listed but did not arrive");
  fails(manifest(a + ",{\"Path\": \"pg_tblspc/16385/PG_15_1/x\", \"Size\": 6}"),
        "arrived with 5 bytes, the manifest says 6");
  fails(manifest("{\"Path\": \"PG_VERSION\", \"Size\": 3, \"Checksum-Algorithm\": \"CRC32C\", "
                 "\"Checksum\": \"00000000\"}," +
                 b),
        "another CRC-32C");
  fails("not json", "cannot be read");
  fails("", "no manifest");
}

TEST_CASE("--pg-via and postgres.via values", "[postgres]") {
  CHECK(engine::parse_pg_via("auto") == engine::PgVia::automatic);
  CHECK(engine::parse_pg_via("local") == engine::PgVia::local);
  CHECK(engine::parse_pg_via("replication") == engine::PgVia::replication);
  CHECK(!engine::parse_pg_via("Local"));
  CHECK(!engine::parse_pg_via(""));
  for (auto v : {engine::PgVia::automatic, engine::PgVia::local, engine::PgVia::replication})
    CHECK(engine::parse_pg_via(engine::pg_via_name(v)) == v);
}
