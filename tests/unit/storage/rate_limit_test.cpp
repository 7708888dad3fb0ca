// --limit-upload / --limit-download on local disk: a token bucket. 4 MiB at
// 1 MiB/s must take about 3 s (the bucket starts with one second's worth).
// The HTTP backends' limits are tested against moto in s3_options_test.cpp.
#include <catch2/catch.hpp>
#include <chrono>

#include "storage/backend.hpp"
#include "storage/rate_limit.hpp"
#include "test_tmpdir.hpp"

namespace bkp::test {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

util::Bytes four_mib() {
  util::Bytes data(std::size_t{4} << 20);
  for (std::size_t i = 0; i < data.size(); ++i)
    data[i] = static_cast<std::uint8_t>(i * 31 + i / 977);
  return data;
}

constexpr std::uint64_t one_mib = std::uint64_t{1} << 20;

}  // namespace

TEST_CASE("token bucket: a burst of one second, then the rate", "[rate]") {
  util::RateLimiter bucket(one_mib, std::chrono::seconds(1));
  auto start = Clock::now();
  bucket.consume(one_mib / 2);
  bucket.consume(one_mib / 2);
  CHECK(seconds_since(start) < 0.2);  // within the first second's tokens
  bucket.consume(one_mib);
  CHECK(seconds_since(start) >= 0.9);
}

TEST_CASE("local backend: upload and download limits", "[rate]") {
  TempDir dir;
  auto data = four_mib();
  storage::BackendOptions unlimited;
  auto fast = storage::open_backend(dir.path().string(), unlimited);
  REQUIRE(fast.ok());
  auto start = Clock::now();
  REQUIRE((*fast)->put("data/free", data, storage::WriteMode::create_only).ok());
  CHECK(seconds_since(start) < 2.0);

  storage::BackendOptions limited;
  limited.limit_upload = one_mib;
  limited.limit_download = one_mib;
  auto slow = storage::open_backend(dir.path().string(), limited);
  REQUIRE(slow.ok());
  CHECK((*slow)->kind() == "local");
  start = Clock::now();
  REQUIRE((*slow)->put("data/slow", data, storage::WriteMode::create_only).ok());
  double up = seconds_since(start);
  CHECK(up >= 2.9);
  CHECK(up < 6.0);
  start = Clock::now();
  auto got = (*slow)->get("data/slow");
  REQUIRE(got.ok());
  CHECK(*got == data);
  CHECK(seconds_since(start) >= 2.9);
}

}  // namespace bkp::test
