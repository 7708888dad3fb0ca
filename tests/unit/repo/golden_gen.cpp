// Writes a golden repository (tests/data/golden-v<N>/, see their READMEs):
//   golden_gen OUT_DIR
// OUT_DIR/repo is the repository and OUT_DIR/expected.json what the golden
// tests check. The source tree is laid out at /tmp/bkp-golden-v1/tree, a
// fixed path, because absolute paths end up in snapshots and trees.
// Run once per format version; never regenerate an existing golden set.
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "crypto/hash.hpp"
#include "engine/backup.hpp"
#include "storage/local.hpp"

using namespace bkp;
namespace fs = std::filesystem;

namespace {

constexpr const char* kPassphrase = "golden-passphrase";
const fs::path kTree = "/tmp/bkp-golden-v1/tree";

[[noreturn]] void die(const std::string& what) {
  std::cerr << "golden_gen: " << what << "\n";
  std::exit(1);
}

template <class R>
auto must(R r, const std::string& what) {
  if (!r.ok()) die(what + ": " + r.error().message);
  if constexpr (!std::is_same_v<R, util::Status>) return std::move(r).value();
}

// Compressible, deterministic text (an LCG picking words).
std::string words(std::size_t n) {
  static const char* kWords[] = {"backup", "restore", "chunk", "pack",   "index", "snapshot",
                                 "key",    "tree",    "blob",  "verify", "prune", "catalog"};
  std::string out;
  std::uint32_t x = 12345;
  while (out.size() < n) {
    x = x * 1103515245u + 12345u;
    out += kWords[(x >> 16) % 12];
    out += (x >> 8) % 9 == 0 ? "\n" : " ";
  }
  out.resize(n);
  return out;
}

// Incompressible, deterministic bytes (xorshift).
std::string noise(std::size_t n) {
  std::string out(n, '\0');
  std::uint64_t x = 0x9E3779B97F4A7C15ull;
  for (auto& c : out) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    c = static_cast<char>(x >> 24);
  }
  return out;
}

std::string lines(std::size_t count) {
  std::string out;
  char buf[32];
  for (std::size_t i = 0; i < count; ++i) {
    std::snprintf(buf, sizeof buf, "line %05zu\n", i);
    out += buf;
  }
  return out;
}

nlohmann::json files_json;

void write(const fs::path& rel, const std::string& content, mode_t mode) {
  auto p = kTree / rel;
  std::ofstream(p, std::ios::binary)
      .write(content.data(), static_cast<std::streamsize>(content.size()));
  ::chmod(p.c_str(), mode);
  struct timespec times[2] = {{1700000000, 0}, {1700000000, 123456789}};
  ::utimensat(AT_FDCWD, p.c_str(), times, 0);
  files_json[(kTree / rel).string()] = util::to_hex(crypto::sha256(util::as_bytes(content)));
}

nlohmann::json describe(const repo::Snapshot& s) {
  return {{"id", s.id},
          {"source_kind", s.source_kind},
          {"source", s.source_name},
          {"backup_type", s.backup_type},
          {"parent", s.parent},
          {"tree", util::to_hex(s.tree)}};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) die("usage: golden_gen OUT_DIR");
  ::setenv("BKP_TEST_FAST_KDF", "1", 1);
  fs::path out = argv[1];
  if (fs::exists(out / "repo")) die("'" + (out / "repo").string() + "' exists; never regenerate");

  fs::remove_all(kTree.parent_path());
  fs::create_directories(kTree / "sub");
  write("hello.txt", "hello, bkp\n", 0644);
  write("empty", "", 0640);
  write("sub/words.txt", words(48 * 1024), 0644);
  write("sub/random.bin", noise(12 * 1024), 0600);
  write("sub/copy.txt", "hello, bkp\n", 0644);
  fs::create_symlink("hello.txt", kTree / "link");
  ::chmod((kTree / "sub").c_str(), 0755);

  storage::LocalBackend backend(out / "repo");
  repo::InitOptions init;
  init.compression = {compress::Codec::zstd, 0};
  init.chunker = {1024, 4096, 16384};  // small, so files span several chunks
  init.pack_size = 32 * 1024;          // small, so there are several packs
  repo::Credentials cred;
  cred.secret = util::SecretBytes(util::as_bytes(kPassphrase));
  auto repo_id = must(repo::Repository::init(backend, cred, init), "init");

  fs::path catalog = kTree.parent_path() / "catalog.db";
  auto r = must(
      repo::Repository::open(std::make_unique<storage::LocalBackend>(out / "repo"), cred, catalog),
      "open");
  nlohmann::json snaps = nlohmann::json::array();

  engine::FileBackupOptions full;
  full.paths = {kTree};
  full.type = engine::BackupType::full;
  full.tags = {"golden"};
  full.source_name = "golden-tree";
  snaps.push_back(describe(must(engine::backup_files(*r, full), "backup files").snapshot));

  auto stdin_content = lines(2000);
  auto stdin_path = kTree.parent_path() / "stdin.txt";
  std::ofstream(stdin_path, std::ios::binary) << stdin_content;
  int fd = ::open(stdin_path.c_str(), O_RDONLY);
  engine::StreamBackupOptions stream;
  stream.name = "stdin.txt";
  stream.input_fd = fd;
  snaps.push_back(describe(must(engine::backup_stream(*r, stream), "backup stdin").snapshot));
  ::close(fd);

  write("added.txt", "added later\n", 0644);
  engine::FileBackupOptions incr = full;
  incr.type = engine::BackupType::incremental;
  snaps.push_back(describe(must(engine::backup_files(*r, incr), "backup incremental").snapshot));

  nlohmann::json expected{
      {"passphrase", kPassphrase},
      {"repository_id", repo_id},
      {"snapshots", snaps},
      {"files", files_json},
      {"symlinks", {{(kTree / "link").string(), "hello.txt"}}},
      {"stdin",
       {{"name", "stdin.txt"},
        {"size", stdin_content.size()},
        {"sha256", util::to_hex(crypto::sha256(util::as_bytes(stdin_content)))}}}};
  std::ofstream(out / "expected.json") << expected.dump(2) << "\n";
  std::cout << "wrote " << (out / "repo").string() << " (" << repo_id << ")\n";
  return 0;
}
