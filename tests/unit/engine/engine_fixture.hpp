// Shared bits of the engine tests: a local repository in a temporary
// directory, file-tree builders, and a bit-for-bit tree comparison.
#pragma once

#include <catch2/catch.hpp>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/backup.hpp"
#include "engine/restore.hpp"
#include "repo/repository.hpp"
#include "test_tmpdir.hpp"
#include "util/bytes.hpp"

namespace bkp::test {

namespace fs = std::filesystem;

// Fails the test with the error's message when `r` is an error.
#define REQUIRE_OK(r)                                             \
  do {                                                            \
    const auto& bkp_r_ = (r);                                     \
    INFO((bkp_r_.ok() ? std::string() : bkp_r_.error().message)); \
    REQUIRE(bkp_r_.ok());                                         \
  } while (0)

// The passphrase every test repository is created with.
repo::Credentials test_credentials();

// Small chunks and packs, so that a few hundred KiB span many chunks and
// packs (verify tests); the defaults otherwise.
repo::InitOptions small_options();

// A repository in its own temporary directory: storage in "storage/",
// catalog "catalog.db"; files to back up go anywhere under root().
class RepoFixture {
 public:
  explicit RepoFixture(const repo::InitOptions& options = {});
  ~RepoFixture();

  repo::Repository& repo() { return *repo_; }
  const fs::path& root() const { return tmp_.path(); }
  fs::path storage() const { return root() / "storage"; }
  fs::path catalog_path() const { return root() / "catalog.db"; }

  // Closes the repository and opens it again (unflushed blobs are lost,
  // as in a crash); `fresh_catalog` starts from an empty catalog file.
  void reopen(bool fresh_catalog = false);
  void close() { repo_.reset(); }

  // Object names under `prefix` in storage ("data/", "snapshots/", ...).
  std::vector<std::string> objects(const std::string& prefix);

  // Backs up `paths` and fails the test on error.
  engine::BackupReport backup(const std::vector<fs::path>& paths,
                              engine::BackupType type = engine::BackupType::incremental,
                              std::vector<std::string> tags = {}, std::string source = {});
  // Restores everything of `snap` under `target` and fails the test on error.
  engine::RestoreReport restore(
      const repo::Snapshot& snap, const fs::path& target,
      engine::OverwritePolicy overwrite = engine::OverwritePolicy::always);

 private:
  TempDir tmp_;
  std::unique_ptr<repo::Repository> repo_;
};

// Deterministic pseudo-random bytes (incompressible).
util::Bytes random_bytes(std::size_t size, std::uint64_t seed);
void write_file(const fs::path& path, util::ByteView data, mode_t mode = 0644);
void write_file(const fs::path& path, const std::string& text, mode_t mode = 0644);
util::Bytes read_bytes(const fs::path& path);
std::string read_text(const fs::path& path);
void set_mtime(const fs::path& path, std::int64_t mtime_ns);
std::int64_t mtime_of(const fs::path& path);

// Every difference between the trees at `a` and `b` (recursively: type,
// mode, owner, mtime in ns, size, content, link target, xattrs, hard-link
// groups); empty when identical. `b` may hold extra entries when
// `allow_extra` says so.
enum class Extra { forbidden, allowed };
std::vector<std::string> compare_trees(const fs::path& a, const fs::path& b,
                                       Extra extra = Extra::forbidden);

inline std::string fmt_diffs(const std::vector<std::string>& diffs) {
  std::string out;
  for (auto& d : diffs) out += d + "\n";
  return out;
}

// Where a snapshot path lands under a restore target.
inline fs::path under(const fs::path& target, const fs::path& abs) {
  return target / abs.relative_path();
}

// Flips one bit of the byte at `at` in `file`.
void flip_byte(const fs::path& file, std::streamoff at);

// Pack ids (object names) that hold `blobs`, from the catalog.
std::vector<std::string> packs_of(repo::Repository& repo, const std::vector<repo::BlobId>& blobs);

// Chunks of the file at `path` in `snap`.
std::vector<repo::BlobId> chunks_of(repo::Repository& repo, const repo::Snapshot& snap,
                                    const std::string& path);

}  // namespace bkp::test
