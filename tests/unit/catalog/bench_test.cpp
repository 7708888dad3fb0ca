// Hidden benchmark (run with: unit_catalog "[.bench]"): 1,000,000 chunk
// index rows inserted in transactions of 10,000, then 1,000,000 random
// lookups. The numbers are in doc/catalog.md. For experiments:
// BKP_BENCH_SQL runs extra SQL (pragmas) after opening; BKP_BENCH_BATCH=1
// groups the hit lookups into read transactions of 10,000.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "helpers.hpp"

using bkp::catalog::BlobLocation;
using bkp::catalog::Catalog;
using bkp::catalog::Id32;

namespace {

Id32 random_id(std::mt19937_64& rng) {
  Id32 id{};
  for (std::size_t i = 0; i < id.size(); i += 8) {
    std::uint64_t v = rng();
    for (std::size_t j = 0; j < 8; ++j) id[i + j] = static_cast<std::uint8_t>(v >> (8 * j));
  }
  return id;
}

// Wall time and CPU time (user + system) of one phase: on a shared machine
// the CPU time is the steadier number.
struct Phase {
  std::chrono::steady_clock::time_point wall = std::chrono::steady_clock::now();
  double cpu = cpu_seconds();

  static double cpu_seconds() {
    struct rusage ru {};
    ::getrusage(RUSAGE_SELF, &ru);
    auto tv = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
    return tv(ru.ru_utime) + tv(ru.ru_stime);
  }
  void report(const char* what, std::size_t n) const {
    double w = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall).count();
    double c = cpu_seconds() - cpu;
    std::printf("%s: %zu in %.2f s wall = %.0f/s; %.2f s cpu = %.0f/s per core\n", what, n, w,
                static_cast<double>(n) / w, c, static_cast<double>(n) / c);
  }
};

}  // namespace

TEST_CASE("chunk index: 1M inserts and 1M lookups", "[.bench]") {
  constexpr std::size_t kRows = 1'000'000, kBatch = 10'000, kPerPack = 200;
  bkp::test::TempDir tmp;
  auto file = tmp.path() / "catalog.db";
  Catalog cat = bkp::test::open_catalog(file);
  if (const char* extra = std::getenv("BKP_BENCH_SQL")) bkp::test::raw_exec(cat, extra);
  const bool batched = std::getenv("BKP_BENCH_BATCH") != nullptr;
  std::mt19937_64 rng(42);
  std::vector<Id32> ids;
  ids.reserve(kRows);

  Phase insert;
  std::vector<BlobLocation> batch(kBatch);
  Id32 pack = random_id(rng);
  for (std::size_t done = 0; done < kRows; done += kBatch) {
    for (std::size_t i = 0; i < kBatch; ++i) {
      if ((done + i) % kPerPack == 0) pack = random_id(rng);
      BlobLocation& b = batch[i];
      b.id = random_id(rng);
      b.pack = pack;
      b.offset = static_cast<std::uint32_t>(((done + i) % kPerPack) * 65536);
      b.length = 65536;
      b.raw_length = 131072;
      ids.push_back(b.id);
    }
    REQUIRE(cat.add_blobs(batch).ok());
  }
  insert.report("inserts", kRows);

  std::shuffle(ids.begin(), ids.end(), rng);
  Phase hits;
  std::size_t found = 0;
  if (batched) {
    for (std::size_t i = 0; i < kRows; i += kBatch) {
      bkp::test::raw_exec(cat, "BEGIN");
      for (std::size_t j = i; j < i + kBatch; ++j) {
        auto hit = cat.find_blob(ids[j]);
        if (hit.ok() && hit->has_value()) ++found;
      }
      bkp::test::raw_exec(cat, "COMMIT");
    }
  } else {
    for (const Id32& id : ids) {
      auto hit = cat.find_blob(id);
      if (hit.ok() && hit->has_value()) ++found;
    }
  }
  hits.report("lookups (hits)", kRows);
  CHECK(found == kRows);

  Phase misses;
  std::size_t false_hits = 0;
  for (std::size_t i = 0; i < kRows; ++i) {
    auto hit = cat.find_blob(random_id(rng));
    if (!hit.ok() || hit->has_value()) ++false_hits;
  }
  misses.report("lookups (misses)", kRows);
  CHECK(false_hits == 0);

  // Fold the WAL into the main file so the size is the steady-state one.
  bkp::test::raw_exec(cat, "PRAGMA wal_checkpoint(TRUNCATE)");
  const auto bytes = std::filesystem::file_size(file);
  std::printf("catalog file: %.1f MiB (%.0f bytes/row)\n", bytes / 1048576.0,
              static_cast<double>(bytes) / kRows);
}
