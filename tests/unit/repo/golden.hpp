// The golden repository of tests/data/golden-v1: where it is, and a working
// copy of it (tests never touch the committed one).
#pragma once

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "helpers.hpp"

namespace bkp::test {

inline std::filesystem::path golden_dir() {
  // meson test sets BKP_TEST_DATA; the fallback lets the binary run alone.
  const char* env = std::getenv("BKP_TEST_DATA");
  std::filesystem::path data = env && *env ? env : BKP_TEST_DATA_DIR;
  return data / "golden-v1";
}

class GoldenRepo {
 public:
  GoldenRepo() {
    auto src = golden_dir();
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

  TempDir dir;
  nlohmann::json expected;
};

}  // namespace bkp::test
