// Keeps man pages and completions in step with the command table: a command
// or flag added without its docs fails here.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <regex>
#include <set>
#include <sstream>

#include "cli_helpers.hpp"
#include "util/fs.hpp"

using bkp::test::Cli;

namespace {
std::vector<std::string> commands(const Cli& cli) {
  auto r = cli.run({"help", "--list-commands"});
  REQUIRE(r.status == 0);
  std::vector<std::string> names;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);) names.push_back(line);
  REQUIRE(names.size() >= 3);
  return names;
}
std::string text(const std::string& rel) {
  auto t = bkp::util::read_text_file(bkp::test::source_root() / rel);
  REQUIRE(t.ok());
  return *t;
}
std::set<std::string> long_options(const std::string& help) {
  std::set<std::string> opts;
  static const std::regex re(R"((--[a-z][a-z0-9-]+))");
  for (auto it = std::sregex_iterator(help.begin(), help.end(), re); it != std::sregex_iterator();
       ++it)
    opts.insert((*it)[1]);
  return opts;
}
}  // namespace

TEST_CASE("every command has a man page and is listed in bkp(1)", "[docs]") {
  Cli cli;
  auto main_page = text("man/bkp.1.scd");
  for (auto& c : commands(cli)) {
    INFO(c);
    CHECK(bkp::util::read_file(bkp::test::source_root() / ("man/bkp-" + c + ".1.scd")).ok());
    CHECK(main_page.find("*bkp-" + c + "*(1)") != std::string::npos);
  }
}

TEST_CASE("completions know every command and every long option", "[docs]") {
  Cli cli;
  for (auto file : {"completions/bkp.bash", "completions/_bkp", "completions/bkp.fish"}) {
    auto comp = text(file);
    for (auto& c : commands(cli)) {
      INFO(file << ": " << c);
      CHECK(comp.find(c) != std::string::npos);
      auto help = cli.run({"help", c});
      for (auto& opt : long_options(help.out)) {
        INFO(opt);
        // fish lists long options without the dashes: -l name.
        bool found = comp.find(opt) != std::string::npos ||
                     comp.find("-l " + opt.substr(2)) != std::string::npos;
        CHECK(found);
      }
    }
  }
}

TEST_CASE("every exit code is documented in bkp(1)", "[docs]") {
  auto page = text("man/bkp.1.scd");
  for (auto code : {"0", "1", "2", "3", "10", "11", "12", "13", "130"}) {
    INFO(code);
    CHECK(page.find(std::string("*") + code + "*") != std::string::npos);
  }
}

TEST_CASE("every configuration key is documented in bkp.toml(5)", "[docs]") {
  Cli cli;
  auto r = cli.run({"config", "show", "--json"});
  REQUIRE(r.status == 0);
  auto page = text("man/bkp.toml.5.scd");
  std::istringstream in(r.out);
  int keys = 0;
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line);
    std::string key = j["key"];
    INFO(key);
    CHECK(page.find("*" + key + "* (") != std::string::npos);
    ++keys;
  }
  CHECK(keys >= 5);
}
