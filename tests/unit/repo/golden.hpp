// The golden repositories of tests/data/golden-v<N>: where they are, and a
// working copy of one (tests never touch the committed ones).
#pragma once

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "helpers.hpp"

namespace bkp::test {

// Every format version's golden set; each test runs over all of them.
#define BKP_GOLDEN_SETS GENERATE(as<std::string>{}, "golden-v1", "golden-v2")

inline std::filesystem::path golden_dir(const std::string& set) {
  // meson test sets BKP_TEST_DATA; the fallback lets the binary run alone.
  const char* env = std::getenv("BKP_TEST_DATA");
  std::filesystem::path data = env && *env ? env : BKP_TEST_DATA_DIR;
  return data / set;
}

class GoldenRepo {
 public:
  explicit GoldenRepo(std::string set_name) : set(std::move(set_name)) {
    INFO("golden set " << set);
    auto src = golden_dir(set);
    REQUIRE(std::filesystem::exists(src / "repo" / "config"));
    std::ifstream in(src / "expected.json");
    expected = nlohmann::json::parse(in);
    std::filesystem::copy(src / "repo", store(), std::filesystem::copy_options::recursive);
  }

  std::filesystem::path store() const { return dir.path() / "repo"; }

  std::unique_ptr<repo::Repository> open() const {
    auto r =
        repo::Repository::open(std::make_unique<storage::LocalBackend>(store()),
                               passphrase(expected.at("passphrase")), dir.path() / "catalog.db");
    INFO((r.ok() ? std::string() : r.error().message));
    REQUIRE(r.ok());
    return std::move(r).value();
  }

  // The format version the set was written in.
  int version() const { return std::stoi(set.substr(set.rfind('v') + 1)); }

  std::string set;
  TempDir dir;
  nlohmann::json expected;
};

}  // namespace bkp::test
