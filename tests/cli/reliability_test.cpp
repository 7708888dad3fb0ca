// What the real binary leaves behind when things go wrong: a backup killed
// at any instant, SIGINT, a catalog locked by another process, a full disk,
// a damaged index segment and a lost pack. The repository must verify after
// each, and what was not damaged must still restore bit for bit.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <fstream>
#include <functional>
#include <iostream>
#include <random>
#include <set>
#include <thread>

#include "cli_helpers.hpp"
#include "util/fs.hpp"
#include "util/subprocess.hpp"

extern char** environ;

using bkp::test::Cli;
using bkp::test::noise;
using bkp::test::read;
using bkp::test::Run;
using bkp::util::Child;
using bkp::util::SpawnOptions;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

// Compared as a whole; on a mismatch Catch2 would print megabytes of noise.
bool same_content(const fs::path& a, const fs::path& b) { return read(a) == read(b); }

double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

// Reads what is left on a child's pipe once the child has ended.
std::string drain(int fd) {
  std::string out;
  char buf[4096];
  for (ssize_t n; fd >= 0 && (n = ::read(fd, buf, sizeof buf)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

// Whether the child ended within `limit`, without reaping it (wait() does).
bool ended_within(const Child& c, milliseconds limit) {
  auto deadline = Clock::now() + limit;
  for (;;) {
    siginfo_t info{};
    if (::waitid(P_PID, static_cast<id_t>(c.pid()), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
        info.si_pid != 0)
      return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(milliseconds(5));
  }
}

// One line from `fd`, or what came before the deadline.
std::string read_line(int fd, milliseconds limit) {
  auto deadline = Clock::now() + limit;
  std::string line;
  char c;
  while (Clock::now() < deadline && line.find('\n') == std::string::npos) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    if (::read(fd, &c, 1) != 1) break;
    line += c;
  }
  return line;
}

struct Fixture {
  Cli cli;
  fs::path dir = cli.home();
  fs::path repo = dir / "repo";
  fs::path src = dir / "src";
  std::string pw = (dir / "pw").string();

  Fixture() {
    cli.env["BKP_TEST_FAST_KDF"] = "1";
    write("pw", "correct horse\n");
  }
  void write(const std::string& rel, const std::string& bytes) {
    REQUIRE(bkp::util::make_dirs((dir / rel).parent_path()).ok());
    std::ofstream(dir / rel, std::ios::binary) << bytes;
  }
  std::vector<std::string> args(std::vector<std::string> more) const {
    std::vector<std::string> full{"-r", repo.string(), "--password-file", pw};
    full.insert(full.end(), more.begin(), more.end());
    return full;
  }
  Run bkp(std::vector<std::string> more, const std::string& input = {}) {
    return cli.run(args(std::move(more)), input);
  }
  // Returns the catalog path.
  std::string init() {
    auto r = bkp({"init", "--json"});
    INFO(r.err);
    REQUIRE(r.status == 0);
    return nlohmann::json::parse(r.out)["catalog"];
  }
  nlohmann::json backup(std::vector<std::string> more) {
    more.insert(more.begin(), {"backup", "files"});
    more.push_back("--json");
    auto r = bkp(more);
    INFO(r.err);
    REQUIRE(r.status == 0);
    return nlohmann::json::parse(r.out);
  }
  void verify_clean(const std::string& when, bool read_data = false) {
    auto v = read_data ? bkp({"verify", "--read-data"}) : bkp({"verify"});
    INFO(when << ": " << v.err);
    REQUIRE(v.status == 0);
  }
  // bkp as a child that the test signals; the environment is the one
  // Cli::run gives (temp HOME and XDG dirs, no stray BKP_* variables).
  Child spawn(std::vector<std::string> more, SpawnOptions::Stdin in = SpawnOptions::Stdin::null) {
    SpawnOptions opts;
    opts.env = cli.env;
    opts.env.try_emplace("XDG_CONFIG_HOME", (dir / ".config").string());
    opts.env.try_emplace("XDG_STATE_HOME", (dir / ".state").string());
    opts.env.try_emplace("XDG_CACHE_HOME", (dir / ".cache").string());
    for (char** e = environ; *e; ++e) {
      std::string name(*e);
      name = name.substr(0, name.find('='));
      if (name.rfind("BKP_", 0) == 0 && !opts.env.count(name)) opts.unset_env.push_back(name);
    }
    opts.stdin_mode = in;
    opts.stdout_mode = SpawnOptions::Stdout::pipe;
    opts.stderr_mode = SpawnOptions::Stderr::pipe;
    const char* bin = std::getenv("BKP_BINARY");
    REQUIRE(bin);
    std::vector<std::string> argv{bin};
    for (auto& a : args(std::move(more))) argv.push_back(a);
    // A runner started in the background by a shell ignores SIGINT, and the
    // child would inherit that: give it the default disposition.
    auto old = std::signal(SIGINT, SIG_DFL);
    auto child = Child::spawn(argv, opts);
    std::signal(SIGINT, old);
    REQUIRE(child.ok());
    return std::move(*child);
  }
  std::set<fs::path> objects(const std::string& sub) {
    std::set<fs::path> out;
    if (!fs::exists(repo / sub)) return out;
    for (auto& e : fs::recursive_directory_iterator(repo / sub))
      if (e.is_regular_file()) out.insert(e.path());
    return out;
  }
};

}  // namespace

TEST_CASE("a backup killed at any instant leaves a repository that verifies and recovers",
          "[cli][reliability]") {
  Fixture f;
  f.init();
  constexpr int kFiles = 10;
  constexpr std::size_t kFileSize = 8u << 20;
  constexpr std::uint64_t kTotal = kFiles * kFileSize;
  for (int i = 0; i < kFiles; ++i)
    f.write("src/d" + std::to_string(i % 2) + "/f" + std::to_string(i), noise(kFileSize, i));

  // One uninterrupted backup into a scratch repository gives the time scale.
  auto scratch = f.dir / "scratch";
  REQUIRE(f.cli.run({"init", scratch.string(), "--password-file", f.pw}).status == 0);
  auto t0 = Clock::now();
  auto full = f.cli.run(
      {"-r", scratch.string(), "--password-file", f.pw, "backup", "files", f.src.string()});
  const double duration = ms_since(t0);
  REQUIRE(full.status == 0);
  fs::remove_all(scratch);

  const unsigned seed = std::random_device{}();
  std::mt19937 rng(seed);
  std::cout << "reliability: a backup of " << (kTotal >> 20) << " MiB takes " << duration
            << " ms; kill delays seeded with " << seed << "\n";

  // Delays from 5 ms to 80% of the run, one per slice, rising: a run that
  // finishes makes the later ones incremental (and short).
  constexpr int kRuns = 12;
  int killed = 0, completed = 0, killed_after_index = 0;
  std::size_t segments_seen = 0;
  std::string delays;
  for (int i = 0; i < kRuns; ++i) {
    const double span = 0.8 * duration - 5;
    std::uniform_real_distribution<double> pick(5 + span * i / kRuns, 5 + span * (i + 1) / kRuns);
    const auto delay = milliseconds(static_cast<long>(pick(rng)));
    auto child = f.spawn({"backup", "files", f.src.string()});
    std::this_thread::sleep_for(delay);
    ::kill(child.pid(), SIGKILL);
    auto status = child.wait();
    REQUIRE(status.ok());
    auto err = drain(child.stderr_fd());
    INFO("run " << i << ", SIGKILL after " << delay.count() << " ms: " << err);
    REQUIRE((*status == 128 + SIGKILL || *status == 0));
    (*status == 0 ? completed : killed) += 1;
    delays += std::to_string(delay.count()) + (*status == 0 ? "(done) " : " ");
    // A killed run whose index segment is durable: the final backup dedups.
    auto now_segments = f.objects("index").size();
    if (*status != 0 && now_segments > segments_seen) ++killed_after_index, delays += "(indexed) ";
    segments_seen = now_segments;
    // Unreferenced packs of the killed run are only notes.
    f.verify_clean("verify after run " + std::to_string(i), true);
  }
  const auto segments = segments_seen;
  std::cout << "reliability: delays " << delays << "ms; " << killed << " killed, " << completed
            << " completed; " << f.objects("data").size() << " packs, " << segments
            << " index segments (" << killed_after_index
            << " from killed runs) before the final backup\n";
  CHECK(killed >= 3);

  // A full backup reads everything again and stores only what no index
  // segment of the earlier runs already holds.
  auto j = f.backup({f.src.string(), "--type", "full"});
  const auto raw_new = j["stats"]["raw_bytes_new"].get<std::uint64_t>();
  std::cout << "reliability: final backup stored " << raw_new << " of " << kTotal
            << " bytes as new\n";
  if (segments > 0) CHECK(raw_new < kTotal);
  f.verify_clean("verify after the final backup", true);

  auto out = f.dir / "out";
  auto r = f.bkp({"restore", "latest", "--target", out.string()});
  INFO(r.err);
  REQUIRE(r.status == 0);
  for (int i = 0; i < kFiles; ++i) {
    auto rel = "d" + std::to_string(i % 2) + "/f" + std::to_string(i);
    INFO(rel);
    CHECK(same_content(out / f.src.relative_path() / rel, f.src / rel));
  }
}

TEST_CASE("SIGINT during a stdin backup exits 130 and writes no snapshot", "[cli][reliability]") {
  Fixture f;
  f.init();
  auto child = f.spawn({"backup", "stdin", "--name", "x"}, SpawnOptions::Stdin::pipe);
  auto bytes = noise(4096, 7);
  REQUIRE(::write(child.stdin_fd(), bytes.data(), bytes.size()) == 4096);
  // Wait until bkp has read them, so the signal lands mid-backup and not
  // during start-up.
  auto t0 = Clock::now();
  for (int left = 1; left > 0 && ms_since(t0) < 5000;) {
    std::this_thread::sleep_for(milliseconds(10));
    if (::ioctl(child.stdin_fd(), FIONREAD, &left) != 0) break;
  }
  ::kill(child.pid(), SIGINT);
  if (!ended_within(child, milliseconds(10000))) {
    ::kill(child.pid(), SIGKILL);
    FAIL("bkp was still running 10 s after SIGINT");
  }
  auto status = child.wait();
  REQUIRE(status.ok());
  auto err = drain(child.stderr_fd());
  INFO(err);
  CHECK(*status == 130);
  // Stopped by bkp itself at a safe point, not killed by the signal: it says
  // so, and the audit log records the attempt and its result.
  CHECK(err.find("interrupted by SIGINT") != std::string::npos);
  auto audit = f.bkp({"audit", "log", "--json"});
  REQUIRE(audit.status == 0);
  bool recorded = false;
  for (std::size_t at = 0, end; at < audit.out.size(); at = end + 1) {
    end = audit.out.find('\n', at);
    if (end == std::string::npos) end = audit.out.size();
    auto line = audit.out.substr(at, end - at);
    recorded |= line.find("\"backup\"") != std::string::npos &&
                line.find("\"result\":130") != std::string::npos;
  }
  CHECK(recorded);
  auto snaps = f.bkp({"snapshots", "--json"});
  CHECK(snaps.status == 0);
  CHECK(snaps.out.empty());
  f.verify_clean("verify after SIGINT", true);
}

TEST_CASE("SIGTERM during a files backup and SIGINT during a restore stop cleanly",
          "[cli][reliability]") {
  Fixture f;
  f.init();
  for (int i = 0; i < 24; ++i) f.write("src/f" + std::to_string(i), noise(4u << 20, 40 + i));
  // Signals once `started` sees the run under way (past key derivation and
  // catalog sync), with most of the 96 MiB still to go.
  auto stop_midway = [&](std::vector<std::string> args, int sig, const std::string& name,
                         const std::function<bool()>& started) {
    auto child = f.spawn(std::move(args));
    for (auto t0 = Clock::now(); !started() && ms_since(t0) < 20000;)
      std::this_thread::sleep_for(milliseconds(2));
    ::kill(child.pid(), sig);
    if (!ended_within(child, milliseconds(10000))) {
      ::kill(child.pid(), SIGKILL);
      FAIL("bkp was still running 10 s after " << name);
    }
    auto status = child.wait();
    REQUIRE(status.ok());
    auto err = drain(child.stderr_fd());
    INFO(err);
    // A run that finished before the signal proves nothing: the data is
    // large enough that it does not on this machine.
    CHECK(*status == 130);
    CHECK(err.find("interrupted by " + name) != std::string::npos);
  };
  stop_midway({"backup", "files", f.src.string()}, SIGTERM, "SIGTERM", [&] {
    try {  // packs appear (and temp files vanish) while listing
      return !f.objects("data").empty();
    } catch (const fs::filesystem_error&) {
      return false;
    }
  });
  CHECK(f.bkp({"snapshots", "--json"}).out.empty());
  f.verify_clean("verify after SIGTERM", true);

  f.backup({f.src.string()});
  auto restored = f.dir / "out" / f.src.relative_path();
  stop_midway({"restore", "latest", "--target", (f.dir / "out").string()}, SIGINT, "SIGINT", [&] {
    std::error_code ec;
    return fs::exists(restored, ec) && !fs::is_empty(restored, ec);
  });
  // The next restore overwrites what the stopped one left and is exact.
  auto r =
      f.bkp({"restore", "latest", "--target", (f.dir / "out").string(), "--overwrite", "always"});
  INFO(r.err);
  REQUIRE(r.status == 0);
  for (int i = 0; i < 24; ++i) {
    auto rel = "f" + std::to_string(i);
    CHECK(same_content(f.src / rel, f.dir / "out" / f.src.relative_path() / rel));
  }
}

TEST_CASE("a restore killed midway, run again with the default policy, is exact",
          "[cli][reliability]") {
  // Files in directories a restore creates are written under their own
  // names: a SIGKILL leaves some partly written. The next restore (default
  // --overwrite if-changed) must tell them by size or time and rewrite them.
  Fixture f;
  f.init();
  for (int d = 0; d < 4; ++d)
    for (int i = 0; i < 6; ++i)
      f.write("src/d" + std::to_string(d) + "/f" + std::to_string(i),
              noise((1u << 20) + 4096u * static_cast<unsigned>(i), 60 + d * 6 + i));
  f.backup({f.src.string()});
  auto out = f.dir / "out";
  int killed = 0;
  for (int round = 0; round < 3; ++round) {
    fs::remove_all(out);
    auto child = f.spawn({"restore", "latest", "--target", out.string()});
    auto below = out / f.src.relative_path();
    // Killed once some files are there, at a later point each round.
    for (auto t0 = Clock::now(); ms_since(t0) < 20000;) {
      std::error_code ec;
      std::size_t files = 0;
      for (auto it = fs::recursive_directory_iterator(below, ec);
           !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
        files += it->is_regular_file(ec) ? 1 : 0;
      if (files > static_cast<std::size_t>(2 + 6 * round)) break;
      std::this_thread::sleep_for(milliseconds(1));
    }
    ::kill(child.pid(), SIGKILL);
    auto status = child.wait();
    REQUIRE(status.ok());
    if (*status == 128 + SIGKILL) ++killed;
    auto again = f.bkp({"restore", "latest", "--target", out.string()});
    INFO("round " << round << ": " << again.err);
    REQUIRE(again.status == 0);
    for (auto& e : fs::recursive_directory_iterator(f.src)) {
      auto restored = below / fs::relative(e.path(), f.src);
      INFO(restored);
      REQUIRE(fs::exists(restored));
      if (!e.is_regular_file()) continue;
      CHECK(same_content(e.path(), restored));
      CHECK(fs::last_write_time(e.path()) == fs::last_write_time(restored));
    }
  }
  CHECK(killed >= 1);  // a run that always finished first proves nothing
}

TEST_CASE("a catalog locked by another process makes a backup exit 11", "[cli][reliability]") {
  Fixture f;
  auto catalog = f.init();
  f.write("src/a.txt", "hello\n");
  auto py = Child::spawn({"python3", "-c",
                          "import sqlite3, sys, time\n"
                          "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
                          "c.execute('BEGIN EXCLUSIVE')\n"
                          "print('locked', flush=True)\n"
                          "time.sleep(30)\n",
                          catalog},
                         {});
  if (!py) {
    std::cout << "BKP-SKIP: no python3 to hold the catalog lock: " << py.error().message << "\n";
    return;
  }
  auto line = read_line(py->stdout_fd(), milliseconds(10000));
  if (line != "locked\n") {
    ::kill(py->pid(), SIGKILL);
    FAIL("python3 did not lock the catalog: '" << line << "' " << drain(py->stderr_fd()));
  }
  auto t0 = Clock::now();
  auto r = f.bkp({"backup", "files", f.src.string()});
  const double took = ms_since(t0);
  ::kill(py->pid(), SIGKILL);
  (void)py->wait();
  INFO(r.err << " after " << took << " ms");
  CHECK(r.status == 11);
  CHECK(r.err.find("locked") != std::string::npos);
  CHECK(r.err.find(catalog) != std::string::npos);
  CHECK(took < 13000);  // the busy timeout is 10 s

  // Nothing to unlock by hand: once the other process is gone, it works.
  f.backup({f.src.string()});
  f.verify_clean("verify after the lock", true);
}

TEST_CASE("a full disk fails the backup cleanly; the repository still verifies",
          "[cli][reliability]") {
  if (::geteuid() != 0) {
    std::cout << "BKP-SKIP: needs root to mount a small tmpfs\n";
    return;
  }
  Fixture f;
  auto mnt = f.dir / "small";
  fs::create_directories(mnt);
  auto m = bkp::util::run_capture({"mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", mnt.string()});
  if (!m || m->status != 0) {
    std::cout << "BKP-SKIP: cannot mount a tmpfs: " << (m ? m->err : m.error().message) << "\n";
    return;
  }
  struct Unmount {
    fs::path at;
    ~Unmount() { (void)bkp::util::run_capture({"umount", at.string()}); }
  } unmount{mnt};
  f.repo = mnt / "repo";
  f.init();
  f.write("src/big.bin", noise(20u << 20, 1));
  f.write("src/small.txt", "small\n");

  auto r = f.bkp({"backup", "files", f.src.string()});
  INFO(r.err);
  CHECK(r.status == 1);
  CHECK(r.err.find("No space left on device") != std::string::npos);
  CHECK(f.bkp({"snapshots", "--json"}).out.empty());
  // No temporary file keeps the space after the failure.
  for (auto& p : f.objects("")) CHECK(p.filename().string().find(".tmp-") == std::string::npos);
  f.verify_clean("verify after the disk filled up");

  // With the big file gone the same repository takes a backup again.
  fs::remove(f.src / "big.bin");
  f.backup({f.src.string()});
  f.verify_clean("verify after the small backup", true);
  auto out = f.dir / "out";
  REQUIRE(f.bkp({"restore", "latest", "--target", out.string()}).status == 0);
  CHECK(read(out / f.src.relative_path() / "small.txt") == "small\n");
}

TEST_CASE("a truncated index segment fails verify with exit 13 naming it", "[cli][reliability]") {
  Fixture f;
  f.init();
  f.write("src/a.bin", noise(1u << 20, 3));
  f.backup({f.src.string()});
  auto segments = f.objects("index");
  REQUIRE(segments.size() == 1);
  auto segment = *segments.begin();
  fs::resize_file(segment, fs::file_size(segment) / 2);
  // Without the catalog, the segment must be read again.
  fs::remove_all(f.dir / ".state");
  auto v = f.bkp({"verify"});
  INFO(v.err);
  CHECK(v.status == 13);
  CHECK(v.err.find("'index/" + segment.filename().string() + "'") != std::string::npos);
  CHECK(v.err.find("internal error") == std::string::npos);
}

namespace {

// Snapshot "one" holds a and z; "two" holds the same a and z plus m, whose
// only pack is then deleted.
struct LostPack {
  Fixture f;
  fs::path src1 = f.dir / "one", src2 = f.dir / "two";
  std::string one, two;
  fs::path out = f.dir / "out";
  Run restored;

  LostPack() {
    f.init();
    for (auto* name : {"one/a.bin", "one/z.bin", "two/a.bin", "two/z.bin"})
      f.write(name, noise(2u << 20, name[4] == 'a' ? 1 : 2));
    f.write("two/m.bin", noise(3u << 20, 3));
    one = f.backup({src1.string(), "--source", "one"})["snapshot"];
    auto before = f.objects("data");
    two = f.backup({src2.string(), "--source", "two"})["snapshot"];
    fs::path lost;
    for (auto& p : f.objects("data"))
      if (!before.count(p) && (lost.empty() || fs::file_size(p) > fs::file_size(lost))) lost = p;
    REQUIRE(!lost.empty());
    REQUIRE(fs::file_size(lost) > (3u << 20));  // m's data pack, not a tree pack
    fs::remove(lost);
    restored = f.bkp({"restore", two, "--target", out.string()});
  }
};

}  // namespace

TEST_CASE("a lost pack fails only the snapshot using it", "[cli][reliability]") {
  LostPack t;
  auto& f = t.f;
  auto ok = f.bkp({"restore", t.one, "--target", (f.dir / "out1").string()});
  INFO(ok.err);
  REQUIRE(ok.status == 0);
  for (auto* name : {"a.bin", "z.bin"})
    CHECK(same_content(f.dir / "out1" / t.src1.relative_path() / name, t.src1 / name));

  INFO(t.restored.err);
  CHECK(t.restored.status == 13);
  CHECK(t.restored.err.find("no such object") != std::string::npos);
  // Whatever files the failed restore wrote in full are right.
  for (auto* name : {"a.bin", "z.bin"}) {
    auto p = t.out / t.src2.relative_path() / name;
    if (fs::exists(p)) CHECK(same_content(p, t.src2 / name));
  }
  auto v = f.bkp({"verify"});
  CHECK(v.status == 13);
  CHECK(v.err.find(t.two) != std::string::npos);
  CHECK(v.err.find(t.one) == std::string::npos);
}

TEST_CASE("a failed restore leaves no wrong file under the real name", "[cli][reliability]") {
  LostPack t;
  REQUIRE(t.restored.status == 13);
  auto m = t.out / t.src2.relative_path() / "m.bin";
  INFO("m.bin " << (fs::exists(m) ? std::to_string(fs::file_size(m)) + " bytes" : "absent"));
  if (fs::exists(m)) CHECK(same_content(m, t.src2 / "m.bin"));
  CHECK(t.restored.err.find("m.bin") != std::string::npos);
  // The intact files around it are restored all the same.
  auto z = t.out / t.src2.relative_path() / "z.bin";
  REQUIRE(fs::exists(z));
  CHECK(same_content(z, t.src2 / "z.bin"));
  for (auto& e : fs::recursive_directory_iterator(t.out)) {
    CHECK(e.path().filename().string().find(".bkp-partial") == std::string::npos);
  }
}
