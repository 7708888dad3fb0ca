// The main job as a user runs it: init, backup, snapshots, restore, verify,
// and what each bad input does to the exit status.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>

#include "cli_helpers.hpp"
#include "util/fs.hpp"
#include "util/subprocess.hpp"

using bkp::test::Cli;
using bkp::test::Run;
namespace fs = std::filesystem;

namespace {

std::string noise(std::size_t n);

struct Fixture {
  Cli cli;
  fs::path dir = cli.home();
  fs::path repo = dir / "repo";
  fs::path src = dir / "src";
  std::string pw = (dir / "pw").string();

  Fixture() {
    cli.env["BKP_TEST_FAST_KDF"] = "1";
    write("pw", "correct horse\n");
    write("src/a.txt", "hello\n");
    write("src/sub/b.bin", noise(3 << 20));
    fs::create_symlink("a.txt", src / "link");
    REQUIRE(::chmod((src / "a.txt").c_str(), 0640) == 0);
  }
  void write(const std::string& rel, const std::string& text) {
    REQUIRE(bkp::util::make_dirs((dir / rel).parent_path()).ok());
    std::ofstream(dir / rel) << text;
  }
  Run bkp(std::vector<std::string> args, const std::string& input = {}) {
    std::vector<std::string> full{"-r", repo.string(), "--password-file", pw};
    full.insert(full.end(), args.begin(), args.end());
    return cli.run(full, input);
  }
  void init() {
    auto r = bkp({"init"});
    INFO(r.err);
    REQUIRE(r.status == 0);
  }
  std::string backup() {
    auto r = bkp({"backup", "files", src.string(), "--json"});
    INFO(r.err);
    REQUIRE(r.status == 0);
    return nlohmann::json::parse(r.out)["snapshot"];
  }
  std::vector<fs::path> packs() {
    std::vector<fs::path> out;
    for (auto& e : fs::recursive_directory_iterator(repo / "data"))
      if (e.is_regular_file()) out.push_back(e.path());
    return out;
  }
};

// Incompressible bytes, so the data pack is the biggest object.
std::string noise(std::size_t n) {
  std::string s(n, '\0');
  std::uint64_t x = 0x9e3779b97f4a7c15ull;
  for (auto& c : s) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    c = static_cast<char>(x);
  }
  return s;
}

std::string read(const fs::path& p) { return *bkp::util::read_text_file(p); }

}  // namespace

TEST_CASE("init, backup, restore and verify: restore equals source", "[cli][repo]") {
  Fixture f;
  f.init();
  auto repo_file = f.repo / "config";
  struct stat st {};
  REQUIRE(::stat(repo_file.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);

  auto id = f.backup();
  auto snaps = f.bkp({"snapshots", "--json"});
  REQUIRE(snaps.status == 0);
  auto j = nlohmann::json::parse(snaps.out);
  CHECK(j["type"] == "snapshot");
  CHECK(j["id"] == id);
  CHECK(j["backup_type"] == "full");

  auto out = f.dir / "out";
  auto r = f.bkp({"restore", "latest", "--target", out.string(), "--verify"});
  INFO(r.err);
  REQUIRE(r.status == 0);
  auto restored = out / f.src.relative_path();
  CHECK(read(restored / "a.txt") == "hello\n");
  CHECK(read(restored / "sub/b.bin") == read(f.src / "sub/b.bin"));
  CHECK(fs::read_symlink(restored / "link") == "a.txt");
  REQUIRE(::stat((restored / "a.txt").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0640);
  struct stat orig {};
  REQUIRE(::stat((f.src / "a.txt").c_str(), &orig) == 0);
  CHECK(st.st_mtim.tv_sec == orig.st_mtim.tv_sec);
  CHECK(st.st_mtim.tv_nsec == orig.st_mtim.tv_nsec);

  auto v = f.bkp({"verify", "--read-data"});
  INFO(v.err);
  CHECK(v.status == 0);
  CHECK(v.err.find("no problems found") != std::string::npos);
}

TEST_CASE("incremental backup stores only what changed; ls and diff see it", "[cli][repo]") {
  Fixture f;
  f.init();
  auto first = f.backup();
  f.write("src/a.txt", "hello again\n");
  f.write("src/new.txt", "new\n");
  auto r = f.bkp({"backup", "files", f.src.string(), "--json"});
  REQUIRE(r.status == 0);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["backup_type"] == "incremental");
  CHECK(j["parent"] == first);
  CHECK(j["stats"]["files_unmodified"] == 1);
  CHECK(j["stats"]["files_changed"] == 1);
  CHECK(j["stats"]["files_new"] == 1);
  CHECK(j["stats"]["raw_bytes_new"].get<int>() < 10000);

  auto ls = f.bkp({"ls", "latest", f.src.string()});
  CHECK(ls.out.find(f.src.string() + "/new.txt") != std::string::npos);
  auto diff = f.bkp({"diff", first.substr(0, 8), "latest"});
  INFO(diff.out);
  CHECK(diff.out.find("M    " + f.src.string() + "/a.txt") != std::string::npos);
  CHECK(diff.out.find("+    " + f.src.string() + "/new.txt") != std::string::npos);

  // The old snapshot still restores its own content.
  auto out = f.dir / "old";
  REQUIRE(f.bkp({"restore", first, "--target", out.string()}).status == 0);
  CHECK(read(out / f.src.relative_path() / "a.txt") == "hello\n");
  CHECK_FALSE(fs::exists(out / f.src.relative_path() / "new.txt"));
}

TEST_CASE("stdin backups, --to-stdout and tar output", "[cli][repo]") {
  Fixture f;
  f.init();
  auto r = f.bkp({"backup", "stdin", "--name", "dump.sql"}, "select 1;\n");
  INFO(r.err);
  REQUIRE(r.status == 0);
  auto out = f.bkp({"restore", "latest", "--to-stdout", "/dump.sql"});
  CHECK(out.status == 0);
  CHECK(out.out == "select 1;\n");

  auto cmd = f.bkp({"backup", "stdin", "--name", "gen", "--", "/bin/sh", "-c", "printf abc"});
  REQUIRE(cmd.status == 0);
  CHECK(f.bkp({"restore", "latest", "--to-stdout", "/gen"}).out == "abc");

  // A failing command writes no snapshot and says why.
  auto before = f.bkp({"snapshots", "--json"}).out;
  auto bad = f.bkp({"backup", "stdin", "--name", "x", "--", "/bin/sh", "-c", "echo half; exit 7"});
  CHECK(bad.status == 1);
  CHECK(bad.err.find("exited with status 7") != std::string::npos);
  CHECK(f.bkp({"snapshots", "--json"}).out == before);

  f.backup();
  auto tar = f.dir / "out.tar";
  REQUIRE(f.bkp({"restore", "latest", "--format", "tar", "-o", tar.string()}).status == 0);
  auto listing = bkp::util::run_capture({"tar", "-tvf", tar.string()});
  REQUIRE(listing.ok());
  CHECK(listing->out.find("src/sub/b.bin") != std::string::npos);
  CHECK(listing->out.find("link -> a.txt") != std::string::npos);

  // A socket cannot go into a tar archive: the archive is written without
  // it, with a warning, and the exit status says it is partial.
  int s = ::socket(AF_UNIX, SOCK_STREAM, 0);
  REQUIRE(s >= 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  auto sock_path = (f.src / "sock").string();
  REQUIRE(sock_path.size() < sizeof addr.sun_path);
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", sock_path.c_str());
  REQUIRE(::bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  ::close(s);
  f.backup();
  auto partial = f.bkp({"restore", "latest", "--format", "tar", "-o", tar.string(), "--json"});
  CHECK(partial.status == 3);
  CHECK(partial.err.find("sockets cannot be archived") != std::string::npos);
  CHECK(partial.out.find("\"partial\":true") != std::string::npos);
  auto again = bkp::util::run_capture({"tar", "-tf", tar.string()});
  REQUIRE(again.ok());
  CHECK(again->out.find("src/sub/b.bin") != std::string::npos);
  CHECK(again->out.find("sock") == std::string::npos);
}

TEST_CASE("wrong passphrase exits 12, missing repository 10", "[cli][repo][errors]") {
  Fixture f;
  f.init();
  f.write("bad", "wrong\n");
  auto r =
      f.cli.run({"-r", f.repo.string(), "--password-file", (f.dir / "bad").string(), "snapshots"});
  CHECK(r.status == 12);
  CHECK(r.err.find("wrong passphrase") != std::string::npos);
  auto none = f.cli.run({"-r", (f.dir / "nothing").string(), "--password-file", f.pw, "snapshots"});
  CHECK(none.status == 10);
  CHECK(none.err.find("no repository") != std::string::npos);
  auto unset = f.cli.run({"snapshots"});
  CHECK(unset.status == 2);
  CHECK(unset.err.find("no repository given") != std::string::npos);
  // Without a terminal and without a password source: a clear error.
  auto nopw = f.cli.run({"-r", f.repo.string(), "snapshots"});
  CHECK(nopw.status == 2);
  CHECK(nopw.err.find("no terminal") != std::string::npos);
  // The passphrase may come from a command.
  auto viacmd =
      f.cli.run({"-r", f.repo.string(), "--password-command", "echo 'correct horse'", "snapshots"});
  CHECK(viacmd.status == 0);
}

TEST_CASE("init refuses an existing repository and a non-empty directory", "[cli][repo][errors]") {
  Fixture f;
  f.init();
  auto again = f.bkp({"init"});
  CHECK(again.status == 1);
  CHECK(again.err.find("already exists") != std::string::npos);
  auto full = f.cli.run({"init", f.src.string(), "--password-file", f.pw});
  CHECK(full.status == 1);
  CHECK(full.err.find("not empty") != std::string::npos);
}

TEST_CASE("a damaged pack fails verify with exit 13 and names the snapshot",
          "[cli][repo][errors]") {
  Fixture f;
  f.init();
  auto id = f.backup();
  auto packs = f.packs();
  REQUIRE_FALSE(packs.empty());
  // Flip one byte in the middle of the biggest pack.
  auto biggest = *std::max_element(packs.begin(), packs.end(), [](auto& a, auto& b) {
    return fs::file_size(a) < fs::file_size(b);
  });
  {
    std::fstream io(biggest, std::ios::in | std::ios::out | std::ios::binary);
    io.seekg(100);
    char c;
    io.get(c);
    io.seekp(100);
    io.put(static_cast<char>(c ^ 0x55));
  }
  CHECK(f.bkp({"verify"}).status == 0);  // structure is intact
  auto v = f.bkp({"verify", "--read-data"});
  CHECK(v.status == 13);
  CHECK(v.err.find("damaged") != std::string::npos);
  CHECK(v.err.find(id) != std::string::npos);
  auto restore = f.bkp({"restore", "latest", "--target", (f.dir / "o").string()});
  CHECK(restore.status == 13);
  CHECK(restore.err.find("damaged") != std::string::npos);

  // A missing pack is found by the structural check alone.
  fs::remove(biggest);
  auto missing = f.bkp({"verify", "--json"});
  CHECK(missing.status == 13);
  auto last = missing.out.substr(missing.out.rfind("{\"type\":\"verify\""));
  auto j = nlohmann::json::parse(last.substr(0, last.find('\n')));
  CHECK(j["ok"] == false);
  CHECK(j["damaged_snapshots"][0] == id);
}

TEST_CASE("the catalog is rebuilt from storage alone", "[cli][repo]") {
  Fixture f;
  f.init();
  auto id = f.backup();
  fs::remove_all(f.cli.home() / ".state");
  auto snaps = f.bkp({"snapshots", "--json"});
  REQUIRE(snaps.status == 0);
  CHECK(nlohmann::json::parse(snaps.out)["id"] == id);
  auto rebuilt = f.bkp({"catalog", "rebuild", "--json"});
  REQUIRE(rebuilt.status == 0);
  auto j = nlohmann::json::parse(rebuilt.out);
  CHECK(j["backups"] == 1);
  CHECK(j["blobs"].get<int>() > 1);
  auto out = f.dir / "after";
  REQUIRE(f.bkp({"restore", id.substr(0, 6), "--target", out.string()}).status == 0);
  CHECK(read(out / f.src.relative_path() / "a.txt") == "hello\n");
}

TEST_CASE("key files open a repository instead of a passphrase", "[cli][repo]") {
  Fixture f;
  auto key = (f.dir / "repo.key").string();
  auto r = f.cli.run({"init", f.repo.string(), "--key-file", key, "--generate-key-file"});
  INFO(r.err);
  REQUIRE(r.status == 0);
  struct stat st {};
  REQUIRE(::stat(key.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  auto b = f.cli.run({"-r", f.repo.string(), "--key-file", key, "backup", "files", f.src.string()});
  CHECK(b.status == 0);
  auto wrong = f.cli.run({"-r", f.repo.string(), "--password-file", f.pw, "snapshots"});
  CHECK(wrong.status == 12);
  auto again =
      f.cli.run({"init", (f.dir / "r2").string(), "--key-file", key, "--generate-key-file"});
  CHECK(again.status != 0);  // never overwrites a key file
}

TEST_CASE("an unreadable file makes the backup partial (exit 3)", "[cli][repo][errors]") {
  if (::geteuid() != 0) {
    std::cout << "BKP-SKIP: needs root to create a file nobody else can read\n";
    return;
  }
  Fixture f;
  f.init();
  // Root reads anything, so run bkp as 'nobody' over a tree with one file it cannot read.
  fs::permissions(f.dir, fs::perms::all);
  for (auto& e : fs::recursive_directory_iterator(f.dir)) {
    if (!e.is_symlink()) ::chmod(e.path().c_str(), e.is_directory() ? 0777 : 0666);
  }
  f.write("src/secret", "no\n");
  ::chmod((f.src / "secret").c_str(), 0000);
  ::chown((f.src / "secret").c_str(), 0, 0);
  f.cli.env["XDG_STATE_HOME"] = (f.dir / "nobody-state").string();
  auto r = bkp::util::run_capture(
      {"/usr/sbin/runuser", "-u", "nobody", "--", "/usr/bin/env", "BKP_TEST_FAST_KDF=1",
       "XDG_STATE_HOME=" + (f.dir / "nobody-state").string(), std::getenv("BKP_BINARY"), "-r",
       f.repo.string(), "--password-file", f.pw, "backup", "files", f.src.string()});
  REQUIRE(r.ok());
  INFO(r->err);
  CHECK(r->status == 3);
  CHECK(r->err.find("secret") != std::string::npos);
}
