#include "script_server.hpp"

#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>

namespace bkp::test {

namespace {

// BKP_SOURCE_ROOT is set by `meson test` for the CLI tests; the compiled-in
// path lets a test binary run alone.
std::filesystem::path servers_dir() {
  const char* root = std::getenv("BKP_SOURCE_ROOT");
  if (root != nullptr && *root != '\0') return std::filesystem::path(root) / "tests" / "servers";
  return BKP_TEST_SERVERS_DIR;
}

}  // namespace

std::optional<ScriptServer> ScriptServer::start(const std::string& script,
                                                const std::vector<std::string>& args,
                                                const std::vector<std::string>& modules,
                                                std::string& why) {
  std::string probe = "import sys";
  for (const auto& m : modules) probe += ", " + m;
  auto check = util::run_capture({"python3", "-c", probe});
  if (!check.ok() || check->status != 0) {
    why = "python3 with " + probe.substr(7) + " not available";
    return std::nullopt;
  }
  std::vector<std::string> argv = {"python3", (servers_dir() / script).string()};
  argv.insert(argv.end(), args.begin(), args.end());
  util::SpawnOptions opts;
  opts.stderr_mode = util::SpawnOptions::Stderr::null;
  // Held open and never written: the script exits at end of file, so it
  // does not outlive a test that crashes.
  opts.stdin_mode = util::SpawnOptions::Stdin::pipe;
  opts.env["PYTHONDONTWRITEBYTECODE"] = "1";
  auto child = util::Child::spawn(argv, opts);
  REQUIRE(child.ok());
  ScriptServer server;
  server.child_ = std::move(*child);
  // The first line, within 60 s (moto imports take a few seconds).
  std::string line;
  char c = 0;
  while (line.empty() || line.back() != '\n') {
    pollfd pfd{server.child_.stdout_fd(), POLLIN, 0};
    int ready = ::poll(&pfd, 1, 60'000);
    REQUIRE(ready == 1);
    ssize_t n = ::read(server.child_.stdout_fd(), &c, 1);
    INFO("the server script " << script << " ended before saying where it listens");
    REQUIRE(n == 1);
    line.push_back(c);
  }
  server.info_ = nlohmann::json::parse(line);
  // A script that cannot provide its server says why: a failure, not a skip.
  if (server.info_.contains("error"))
    FAIL(script << ": " << server.info_["error"].get<std::string>());
  return server;
}

ScriptServer::~ScriptServer() {
  if (child_.pid() > 0) {
    ::kill(child_.pid(), SIGTERM);
    (void)child_.wait();
  }
}

}  // namespace bkp::test
