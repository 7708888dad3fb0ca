#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "cli_helpers.hpp"
#include "util/fs.hpp"

using bkp::test::Cli;

TEST_CASE("bkp version prints the version, and JSON with --json", "[cli]") {
  Cli cli;
  auto r = cli.run({"version"});
  CHECK(r.status == 0);
  CHECK(r.out.rfind("bkp ", 0) == 0);
  CHECK(r.err.empty());
  auto j = cli.run({"version", "--features", "--json"});
  REQUIRE(j.status == 0);
  auto obj = nlohmann::json::parse(j.out);
  CHECK(obj["type"] == "version");
  CHECK(obj["features"].size() >= 2);
  auto f = cli.run({"version", "--features"});
  CHECK(f.out.find("storage local: yes") != std::string::npos);
}

TEST_CASE("an unknown command exits 2 and suggests the nearest", "[cli]") {
  Cli cli;
  auto r = cli.run({"versoin"});
  CHECK(r.status == 2);
  CHECK(r.err.find("'versoin' is not a bkp command") != std::string::npos);
  CHECK(r.err.find("version") != std::string::npos);
  auto far = cli.run({"zzzzzzzz"});
  CHECK(far.status == 2);
  CHECK(far.err.find("most similar") == std::string::npos);
}

TEST_CASE("an unknown flag is a usage error (exit 2)", "[cli]") {
  Cli cli;
  auto r = cli.run({"version", "--no-such-flag"});
  CHECK(r.status == 2);
  CHECK(r.err.find("--no-such-flag") != std::string::npos);
}

TEST_CASE("no command prints help and exits 2; help exits 0", "[cli]") {
  Cli cli;
  auto none = cli.run({});
  CHECK(none.status == 2);
  CHECK(none.out.find("Subcommands") != std::string::npos);
  auto help = cli.run({"help"});
  CHECK(help.status == 0);
  CHECK(help.out.find("version") != std::string::npos);  // lists the commands
  CHECK(help.out.find("--list-commands") == std::string::npos);
  auto h = cli.run({"help", "version"});
  CHECK(h.status == 0);
  CHECK(h.out.find("--features") != std::string::npos);
  CHECK(cli.run({"help", "nosuch"}).status == 2);
  CHECK(cli.run({"--help"}).status == 0);
}

TEST_CASE("config show reports origins and redacts", "[cli][config]") {
  Cli cli;
  auto cfg = cli.home() / "custom.toml";
  REQUIRE(
      bkp::util::write_file_atomic(cfg, bkp::util::as_bytes("repository = \"/srv/file\"\n")).ok());
  cli.env["BKP_PASSWORD_COMMAND"] = "echo secret";
  auto r = cli.run({"--config", cfg.string(), "config", "show", "--origin"});
  REQUIRE(r.status == 0);
  CHECK(r.out.find("repository = /srv/file    # config (" + cfg.string() + ")") !=
        std::string::npos);
  CHECK(r.out.find("password_command = echo secret    # environment (BKP_PASSWORD_COMMAND)") !=
        std::string::npos);
  auto over = cli.run({"--config", cfg.string(), "-r", "/srv/cli", "config", "show", "--origin"});
  CHECK(over.out.find("repository = /srv/cli    # command line (--repo)") != std::string::npos);
  auto j = cli.run({"config", "show", "--json", "-r", "https://u:pw@host/x"});
  REQUIRE(j.status == 0);
  CHECK(j.out.find("pw@") == std::string::npos);
  CHECK(j.out.find("\"type\":\"config\"") != std::string::npos);
}

TEST_CASE("the user's config file is found in ~/.config/bkp", "[cli][config]") {
  Cli cli;
  auto dir = cli.home() / ".config" / "bkp";
  REQUIRE(bkp::util::make_dirs(dir).ok());
  REQUIRE(bkp::util::write_file_atomic(dir / "bkp.toml",
                                       bkp::util::as_bytes("repository = \"/srv/home\"\n"))
              .ok());
  auto r = cli.run({"config", "show"});
  CHECK(r.out.find("repository = /srv/home") != std::string::npos);
}

TEST_CASE("a bad config file is a usage error (exit 2)", "[cli][config]") {
  Cli cli;
  auto cfg = cli.home() / "bad.toml";
  REQUIRE(bkp::util::write_file_atomic(cfg, bkp::util::as_bytes("[[[")).ok());
  auto r = cli.run({"--config", cfg.string(), "config", "show"});
  CHECK(r.status == 2);
  CHECK(r.err.find("bad.toml") != std::string::npos);
  auto missing = cli.run({"--config", "/nonexistent.toml", "version"});
  CHECK(missing.status == 2);
}
