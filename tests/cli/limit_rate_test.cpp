// --limit-rate and --io-nice: a backup that reads its source slower, and at
// a lower I/O and CPU priority, as a backup beside a busy database must.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <sys/resource.h>
#include <sys/wait.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "cli_helpers.hpp"
#include "util/fs.hpp"
#include "util/io_priority.hpp"
#include "util/subprocess.hpp"

extern char** environ;

using bkp::test::Cli;
using bkp::test::noise;
using bkp::test::Run;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

struct Fixture {
  Cli cli;
  fs::path dir = cli.home();
  fs::path repo = dir / "repo";
  fs::path src = dir / "src";
  std::string pw = (dir / "pw").string();

  Fixture() {
    cli.env["BKP_TEST_FAST_KDF"] = "1";
    std::ofstream(pw) << "correct horse\n";
    REQUIRE(bkp::util::make_dirs(src / "base" / "1").ok());
    // 20 MiB in relation-sized files, incompressible.
    for (int i = 0; i < 10; ++i)
      std::ofstream(src / "base" / "1" / std::to_string(16384 + i), std::ios::binary)
          << noise(2 << 20, std::uint64_t(i));
    auto r = bkp({"init"});
    INFO(r.err);
    REQUIRE(r.status == 0);
  }
  std::vector<std::string> args(std::vector<std::string> more) const {
    std::vector<std::string> full{"-r", repo.string(), "--password-file", pw};
    full.insert(full.end(), more.begin(), more.end());
    return full;
  }
  Run bkp(std::vector<std::string> more) { return cli.run(args(std::move(more))); }
};

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

}  // namespace

TEST_CASE("--limit-rate slows the read and --io-nice lowers the priority", "[limit_rate]") {
  Fixture f;
  const char* bin = std::getenv("BKP_BINARY");
  REQUIRE(bin);
  bkp::util::SpawnOptions opts;
  opts.env = f.cli.env;
  opts.env["HOME"] = f.dir.string();
  opts.env["XDG_STATE_HOME"] = (f.dir / ".state").string();
  opts.env["XDG_CONFIG_HOME"] = (f.dir / ".config").string();
  opts.env["XDG_CACHE_HOME"] = (f.dir / ".cache").string();
  for (char** e = environ; *e; ++e) {
    std::string name(*e);
    name = name.substr(0, name.find('='));
    if (name.rfind("BKP_", 0) == 0 && !opts.env.count(name)) opts.unset_env.push_back(name);
  }
  opts.stdout_mode = bkp::util::SpawnOptions::Stdout::null;
  opts.stderr_mode = bkp::util::SpawnOptions::Stderr::null;
  std::vector<std::string> argv{bin};
  for (auto& a : f.args({"backup", "files", f.src.string(), "--type", "full", "--limit-rate", "5M",
                         "--io-nice", "idle"}))
    argv.push_back(a);

  auto started = Clock::now();
  auto child = bkp::util::Child::spawn(argv, opts);
  REQUIRE(child);
  // The priority is set before the first byte is read; at 5 MiB/s the
  // backup runs for seconds, time enough to look at it from outside.
  std::optional<bkp::util::IoPriority> seen;
  int nice_seen = -100;
  while (seconds_since(started) < 10) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto p = bkp::util::io_priority_of(child->pid());
    if (!p) break;  // ended
    errno = 0;
    int n = ::getpriority(PRIO_PROCESS, static_cast<id_t>(child->pid()));
    if (p->io_class == 3) {
      seen = *p;
      nice_seen = n;
      break;
    }
  }
  auto status = child->wait();
  const double limited = seconds_since(started);
  REQUIRE(status);
  CHECK(*status == 0);
  REQUIRE(seen.has_value());
  CHECK(seen->io_class == 3);  // IOPRIO_CLASS_IDLE
  CHECK(nice_seen == 19);
  // 20 MiB at 5 MiB/s, less the 0.5 MiB bucket: 3.9 s.
  CHECK(limited >= 3.5);

  // Without the limit the same data (new to the repository again: a fresh
  // one) goes much faster, so the time above is the limit's doing.
  fs::remove_all(f.repo);
  REQUIRE(f.bkp({"init"}).status == 0);
  started = Clock::now();
  auto r = f.bkp({"backup", "files", f.src.string(), "--type", "full"});
  const double unlimited = seconds_since(started);
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(unlimited < limited / 1.5);

  // The limited snapshot restores like any other.
  auto v = f.bkp({"verify", "--read-data"});
  CHECK(v.status == 0);
}

TEST_CASE("bad --limit-rate and --io-nice values are usage errors", "[limit_rate]") {
  Fixture f;
  for (auto rate : {"fast", "0", "5X", "-1M"}) {
    auto r = f.bkp({"backup", "files", f.src.string(), "--limit-rate", rate});
    INFO(rate << ": " << r.err);
    CHECK(r.status == 2);
    CHECK(r.err.find("limit-rate") != std::string::npos);
  }
  auto r = f.bkp({"backup", "files", f.src.string(), "--io-nice", "realtime"});
  CHECK(r.status == 2);
  // A logical dump is read by the server, not by bkp: refused, not ignored.
  r = f.bkp({"backup", "postgres", "--limit-rate", "5M"});
  CHECK(r.status == 2);
  CHECK(r.err.find("--mode physical") != std::string::npos);
  auto s = f.bkp({"snapshots", "--json"});
  CHECK(s.out.find("\"snapshot\"") == std::string::npos);
}
