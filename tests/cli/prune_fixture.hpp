// The repository fixture of the prune tests (prune_test.cpp,
// prune_retention_test.cpp): a password repository in a temporary home, a
// source directory, and helpers to run bkp, list storage and check restores.
#pragma once

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "cli_helpers.hpp"
#include "util/fs.hpp"
#include "util/subprocess.hpp"

extern char** environ;

namespace bkp::test {

struct PruneFixture {
  Cli cli;
  std::filesystem::path dir = cli.home();
  std::filesystem::path repo = dir / "repo";
  std::filesystem::path src = dir / "src";
  std::string pw = (dir / "pw").string();

  PruneFixture() {
    cli.env["BKP_TEST_FAST_KDF"] = "1";
    write("pw", "correct horse\n");
    auto r = bkp({"init"});
    INFO(r.err);
    REQUIRE(r.status == 0);
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
  Run bkp(std::vector<std::string> more) { return cli.run(args(std::move(more))); }
  nlohmann::json ok_json(std::vector<std::string> more) {
    more.push_back("--json");
    auto r = bkp(more);
    INFO(r.err);
    REQUIRE(r.status == 0);
    return nlohmann::json::parse(r.out);
  }
  std::string backup() { return ok_json({"backup", "files", src.string()})["snapshot"]; }
  void verify_clean(const std::string& when) {
    auto v = bkp({"verify", "--read-data"});
    INFO(when << ": " << v.err << v.out);
    REQUIRE(v.status == 0);
  }
  // Name -> size and modification time of every object in storage.
  // Every object but the audit log (every command, a dry run too, appends
  // its entry there).
  std::map<std::string, std::pair<std::uintmax_t, std::filesystem::file_time_type>> listing() {
    std::map<std::string, std::pair<std::uintmax_t, std::filesystem::file_time_type>> out;
    for (auto& e : std::filesystem::recursive_directory_iterator(repo)) {
      auto name = std::filesystem::relative(e.path(), repo).string();
      if (e.is_regular_file() && name.rfind("audit/", 0) != 0)
        out[name] = {e.file_size(), e.last_write_time()};
    }
    return out;
  }
  std::uintmax_t data_bytes() {
    std::uintmax_t n = 0;
    for (auto& e : std::filesystem::recursive_directory_iterator(repo / "data"))
      if (e.is_regular_file()) n += e.file_size();
    return n;
  }
  // Restores `snap` and compares each file with `expected` (relative to src).
  void restores(const std::string& snap, const std::map<std::string, std::string>& expected) {
    auto out = dir / ("out-" + snap.substr(0, 8));
    auto r = bkp({"restore", snap, "--target", out.string()});
    INFO(r.err);
    REQUIRE(r.status == 0);
    for (auto& [rel, bytes] : expected) {
      INFO(rel);
      CHECK(read(out / src.relative_path() / rel) == bytes);
    }
  }
  util::Child spawn(std::vector<std::string> more) {
    util::SpawnOptions opts;
    opts.env = cli.env;
    opts.env.try_emplace("XDG_CONFIG_HOME", (dir / ".config").string());
    opts.env.try_emplace("XDG_STATE_HOME", (dir / ".state").string());
    opts.env.try_emplace("XDG_CACHE_HOME", (dir / ".cache").string());
    for (char** e = environ; *e; ++e) {
      std::string name(*e);
      name = name.substr(0, name.find('='));
      if (name.rfind("BKP_", 0) == 0 && !opts.env.count(name)) opts.unset_env.push_back(name);
    }
    opts.stdin_mode = util::SpawnOptions::Stdin::null;
    opts.stdout_mode = util::SpawnOptions::Stdout::pipe;
    opts.stderr_mode = util::SpawnOptions::Stderr::pipe;
    const char* bin = std::getenv("BKP_BINARY");
    REQUIRE(bin);
    std::vector<std::string> argv{bin};
    for (auto& a : args(std::move(more))) argv.push_back(a);
    auto child = util::Child::spawn(argv, opts);
    REQUIRE(child.ok());
    return std::move(*child);
  }
};

}  // namespace bkp::test
