// Shared bits of the repository tests: a fast KDF, credentials, a
// repository in a TempDir with its catalog beside it (never /var/lib/bkp).
#pragma once

#include <stdlib.h>

#include <catch2/catch.hpp>

#include <filesystem>
#include <memory>
#include <string>

#include "repo/repository.hpp"
#include "storage/local.hpp"
#include "test_tmpdir.hpp"
#include "util/fs.hpp"

namespace bkp::test {

// Argon2id with libsodium's minimum limits: set before any test runs
// (CATCH_CONFIG_MAIN owns main), in every test binary that includes this.
inline const bool fast_kdf_enabled = [] {
  ::setenv("BKP_TEST_FAST_KDF", "1", 1);
  return true;
}();

inline repo::Credentials passphrase(const std::string& text) {
  repo::Credentials c;
  c.kind = repo::SlotKind::passphrase;
  c.secret = util::SecretBytes(util::as_bytes(text));
  return c;
}

inline util::SecretBytes test_key(std::uint8_t fill) {
  util::SecretBytes k(32);
  for (std::size_t i = 0; i < k.size(); ++i) k.data()[i] = static_cast<std::uint8_t>(fill + i);
  return k;
}

// Deterministic bytes that zstd cannot shrink (xorshift), for pack tests.
inline util::Bytes noise(std::size_t n, std::uint64_t seed) {
  util::Bytes out(n);
  std::uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  for (auto& b : out) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    b = static_cast<std::uint8_t>(x >> 24);
  }
  return out;
}

// A repository location and catalogs inside one TempDir.
class RepoFixture {
 public:
  explicit RepoFixture(repo::InitOptions options = small_options()) {
    storage::LocalBackend backend(store());
    auto id = repo::Repository::init(backend, passphrase(kPass), options);
    INFO((id.ok() ? std::string() : id.error().message));
    REQUIRE(id.ok());
    repo_id = *id;
  }

  static repo::InitOptions small_options() {
    repo::InitOptions o;
    o.chunker = {1024, 4096, 16384};
    o.pack_size = 64 * 1024;
    return o;
  }

  std::filesystem::path store() const { return dir.path() / "store"; }
  std::filesystem::path catalog(const std::string& name = "host-a") const {
    return dir.path() / "catalogs" / (name + ".db");
  }

  util::Result<std::unique_ptr<repo::Repository>> try_open(
      const std::string& pass = kPass, const std::string& catalog_name = "host-a") const {
    return repo::Repository::open(std::make_unique<storage::LocalBackend>(store()),
                                  passphrase(pass), catalog(catalog_name));
  }

  std::unique_ptr<repo::Repository> open(const std::string& catalog_name = "host-a") const {
    auto r = try_open(kPass, catalog_name);
    INFO((r.ok() ? std::string() : r.error().message));
    REQUIRE(r.ok());
    return std::move(r).value();
  }

  static constexpr const char* kPass = "correct horse battery staple";
  TempDir dir;
  std::string repo_id;
};

inline std::filesystem::path only_file_under(const std::filesystem::path& dir) {
  std::filesystem::path found;
  for (auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) found = e.path();
  }
  return found;
}

inline void flip_byte(const std::filesystem::path& file, std::size_t offset) {
  auto bytes = util::read_file(file);
  REQUIRE(bytes.ok());
  REQUIRE(offset < bytes->size());
  (*bytes)[offset] ^= 0x01;
  std::filesystem::permissions(
      file, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  REQUIRE(util::write_file_atomic(file, *bytes).ok());
}

}  // namespace bkp::test
