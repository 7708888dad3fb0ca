// Shared bits of the catalog tests.
#pragma once

#include <catch2/catch.hpp>

#include <string>

#include "catalog/catalog.hpp"
#include "test_tmpdir.hpp"

namespace bkp::test {

// Opens (creating) a catalog and fails the test when that fails.
inline catalog::Catalog open_catalog(const std::filesystem::path& file) {
  auto opened = catalog::Catalog::open(file);
  INFO((opened.ok() ? std::string() : opened.error().message));
  REQUIRE(opened.ok());
  return std::move(opened).value();
}

inline catalog::Catalog memory_catalog() {
  auto opened = catalog::Catalog::open_memory();
  REQUIRE(opened.ok());
  return std::move(opened).value();
}

// Runs SQL on the raw handle, for tests that tamper with the file.
inline void raw_exec(catalog::Catalog& cat, const std::string& sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(cat.handle(), sql.c_str(), nullptr, nullptr, &err);
  INFO((err ? err : ""));
  sqlite3_free(err);
  REQUIRE(rc == SQLITE_OK);
}

}  // namespace bkp::test
