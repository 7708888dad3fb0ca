// plan_reads: the coalescing of one pack's wanted blobs into few requests.
#include <catch2/catch.hpp>

#include <algorithm>
#include <random>

#include "repo/read_plan.hpp"

using bkp::repo::ByteRange;
using bkp::repo::plan_reads;
using bkp::repo::PlannedRead;
using bkp::repo::ReadLimits;

namespace {

// Every range inside exactly one request, requests in offset order, none
// longer than the limit unless it holds one range alone.
void check_covers(const std::vector<ByteRange>& ranges, const std::vector<PlannedRead>& plan,
                  const ReadLimits& limits) {
  std::vector<int> seen(ranges.size(), 0);
  for (std::size_t p = 0; p < plan.size(); ++p) {
    auto& read = plan[p];
    REQUIRE_FALSE(read.members.empty());
    if (read.members.size() > 1) CHECK(read.span.length <= limits.max_span);
    if (p > 0) CHECK(plan[p - 1].span.offset <= read.span.offset);
    for (auto m : read.members) {
      REQUIRE(m < ranges.size());
      ++seen[m];
      CHECK(ranges[m].offset >= read.span.offset);
      CHECK(ranges[m].end() <= read.span.end());
    }
  }
  for (auto s : seen) CHECK(s == 1);
}

}  // namespace

TEST_CASE("plan_reads joins adjacent ranges into one request", "[read_plan]") {
  std::vector<ByteRange> r{{0, 100}, {100, 50}, {150, 10}};
  auto plan = plan_reads(r, ReadLimits{0, 1000});
  REQUIRE(plan.size() == 1);
  CHECK(plan[0].span.offset == 0);
  CHECK(plan[0].span.length == 160);
  CHECK(plan[0].members == std::vector<std::size_t>{0, 1, 2});
}

TEST_CASE("plan_reads reads through gaps up to max_gap, no further", "[read_plan]") {
  std::vector<ByteRange> r{{0, 100}, {110, 10}, {200, 10}};
  SECTION("a gap of 10 within a limit of 10 is read through") {
    auto plan = plan_reads(r, ReadLimits{10, 1000});
    REQUIRE(plan.size() == 2);
    CHECK(plan[0].span.offset == 0);
    CHECK(plan[0].span.length == 120);
    CHECK(plan[1].span.offset == 200);
    CHECK(plan[1].span.length == 10);
    CHECK(plan[1].members == std::vector<std::size_t>{2});
  }
  SECTION("a gap of 10 over a limit of 9 starts a new request") {
    CHECK(plan_reads(r, ReadLimits{9, 1000}).size() == 3);
  }
  SECTION("a large gap limit joins all") {
    auto plan = plan_reads(r, ReadLimits{1000, 1000});
    REQUIRE(plan.size() == 1);
    CHECK(plan[0].span.length == 210);
  }
}

TEST_CASE("plan_reads keeps requests within max_span", "[read_plan]") {
  std::vector<ByteRange> r;
  for (std::uint64_t i = 0; i < 10; ++i) r.push_back({i * 100, 100});
  auto limits = ReadLimits{0, 300};
  auto plan = plan_reads(r, limits);
  // 1000 bytes in requests of at most 300: 300, 300, 300, 100.
  REQUIRE(plan.size() == 4);
  CHECK(plan[3].span.offset == 900);
  check_covers(r, plan, limits);
}

TEST_CASE("plan_reads reads a range longer than max_span alone", "[read_plan]") {
  std::vector<ByteRange> r{{0, 10}, {10, 5000}, {5010, 10}};
  auto limits = ReadLimits{100, 1000};
  auto plan = plan_reads(r, limits);
  REQUIRE(plan.size() == 3);
  CHECK(plan[1].span.offset == 10);
  CHECK(plan[1].span.length == 5000);
  check_covers(r, plan, limits);
}

TEST_CASE("plan_reads sorts by offset and keeps duplicates and overlaps", "[read_plan]") {
  // Restore asks in file order; a chunk used twice is asked twice.
  std::vector<ByteRange> r{{500, 100}, {0, 100}, {500, 100}, {550, 100}, {100, 0}};
  auto limits = ReadLimits{0, 10000};
  auto plan = plan_reads(r, limits);
  check_covers(r, plan, limits);
  REQUIRE(plan.size() == 2);
  CHECK(plan[0].members == std::vector<std::size_t>{1, 4});
  CHECK(plan[1].members == std::vector<std::size_t>{0, 2, 3});
  CHECK(plan[1].span.offset == 500);
  CHECK(plan[1].span.length == 150);
}

TEST_CASE("plan_reads of nothing plans nothing", "[read_plan]") {
  CHECK(plan_reads({}, ReadLimits{1, 1}).empty());
}

TEST_CASE("plan_reads covers random ranges within its limits", "[read_plan]") {
  std::mt19937_64 rng(42);
  for (int round = 0; round < 200; ++round) {
    std::vector<ByteRange> r(rng() % 60);
    for (auto& x : r) x = {rng() % 100000, rng() % 3000};
    ReadLimits limits{rng() % 2000, 1000 + rng() % 20000};
    auto plan = plan_reads(r, limits);
    check_covers(r, plan, limits);
    // Greedy and no more: the range that opened a request could not have
    // joined the one before.
    for (std::size_t p = 1; p < plan.size(); ++p) {
      auto& prev = plan[p - 1].span;
      auto& first = r[plan[p].members[0]];
      bool near = first.offset <= prev.end() || first.offset - prev.end() <= limits.max_gap;
      bool fits = std::max(prev.end(), first.end()) - prev.offset <= limits.max_span;
      CHECK_FALSE((near && fits));
    }
  }
}
