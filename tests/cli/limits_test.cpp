// --limit-upload / --limit-download from the command line on a local
// repository (the token bucket), and a rate that is not one.
#include <catch2/catch.hpp>

#include <chrono>
#include <fstream>

#include "cli_helpers.hpp"

using bkp::test::Cli;

TEST_CASE("limits: --limit-upload and --limit-download slow a local repository", "[cli][rate]") {
  Cli cli;
  cli.env["BKP_TEST_FAST_KDF"] = "1";
  auto dir = cli.home();
  std::ofstream(dir / "pw") << "pw\n";
  const std::string repo = (dir / "repo").string();
  auto bkp = [&](std::vector<std::string> args, const std::string& input = {}) {
    std::vector<std::string> full{"-r", repo, "--password-file", (dir / "pw").string()};
    full.insert(full.end(), args.begin(), args.end());
    return cli.run(full, input);
  };
  REQUIRE(bkp({"init"}).status == 0);
  // 4 MiB that does not compress: one pack of about 4 MiB at 1 MiB/s.
  const std::string data = bkp::test::noise(4 << 20, 11);
  auto start = std::chrono::steady_clock::now();
  auto r = bkp({"--limit-upload", "1M", "backup", "stdin", "--name", "x"}, data);
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(2900));

  start = std::chrono::steady_clock::now();
  r = bkp({"--limit-download", "1MiB/s", "verify", "--read-data"});
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(2900));

  r = bkp({"--limit-upload", "fast", "snapshots"});
  CHECK(r.status == 2);
  CHECK(r.err.find("limit_upload must be a rate") != std::string::npos);
  cli.env["BKP_LIMIT_DOWNLOAD"] = "0";
  r = bkp({"snapshots"});
  CHECK(r.status == 2);
  CHECK(r.err.find("limit_download must be a rate") != std::string::npos);
}
