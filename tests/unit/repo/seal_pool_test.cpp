// SealPool: every job comes back once, however few wait in the queue (idle
// workers are woken in batches), and the bytes in flight stay bounded.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <set>
#include <thread>

#include "repo/seal_pool.hpp"

using namespace bkp;
using repo::SealedBlob;
using repo::SealJob;
using repo::SealPool;

namespace {

SealJob job_of(std::uint8_t n, std::size_t size) {
  SealJob job;
  job.id[0] = n;
  job.id[1] = static_cast<std::uint8_t>(size >> 8);
  job.data.assign(size, n);
  return job;
}

// The "sealed" form is the data reversed, so a test sees the job went through.
SealedBlob reverse(const SealJob& job) {
  SealedBlob out{job.type, job.id, util::Bytes(job.data.rbegin(), job.data.rend()),
                 static_cast<std::uint32_t>(job.data.size())};
  return out;
}

}  // namespace

TEST_CASE("seal pool returns every job, also fewer than wake a worker", "[seal_pool]") {
  for (unsigned threads : {1u, 2u, 4u}) {
    INFO(threads << " threads");
    for (std::size_t jobs : {std::size_t{1}, std::size_t{3}, SealPool::wake_jobs + 5}) {
      INFO(jobs << " jobs");
      SealPool pool(threads, 16u << 20, reverse);
      for (std::size_t i = 0; i < jobs; ++i) pool.submit(job_of(static_cast<std::uint8_t>(i), 10));
      auto done = pool.take(SealPool::Wait::all);
      REQUIRE(done.size() == jobs);
      std::set<std::uint8_t> seen;
      for (auto& d : done) {
        seen.insert(d.id[0]);
        CHECK(d.raw_length == 10);
        CHECK(d.sealed == util::Bytes(10, d.id[0]));
      }
      CHECK(seen.size() == jobs);
      CHECK(pool.take(SealPool::Wait::none).empty());
    }
  }
}

TEST_CASE("seal pool bounds the bytes in flight", "[seal_pool]") {
  constexpr std::size_t bound = 64 * 1024, size = 4096;
  std::atomic<std::size_t> finished{0};
  SealPool pool(2, bound, [&](const SealJob& job) {
    std::this_thread::sleep_for(std::chrono::microseconds(200));
    auto out = reverse(job);
    finished += job.data.size();
    return out;
  });
  std::size_t submitted = 0, taken = 0;
  for (int i = 0; i < 200; ++i) {
    pool.submit(job_of(static_cast<std::uint8_t>(i), size));
    submitted += size;
    // What the pool holds: queued or being sealed, never more than the bound.
    CHECK(submitted - finished.load() <= bound);
    taken += pool.take(SealPool::Wait::none).size();
  }
  taken += pool.take(SealPool::Wait::all).size();
  CHECK(taken == 200);
  CHECK(finished.load() == submitted);
}

TEST_CASE("seal pool destroyed with jobs queued seals them first", "[seal_pool]") {
  std::atomic<int> sealed{0};
  {
    SealPool pool(2, 1u << 20, [&](const SealJob& job) {
      ++sealed;
      return reverse(job);
    });
    for (int i = 0; i < 5; ++i) pool.submit(job_of(static_cast<std::uint8_t>(i), 100));
  }
  CHECK(sealed.load() == 5);
}
