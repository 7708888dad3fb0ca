// The keep-* rules on synthetic timestamps: which snapshot each rule keeps.
#include <catch2/catch.hpp>

#include <algorithm>
#include <set>

#include "engine/retention.hpp"
#include "util/time.hpp"

using namespace bkp::engine;

namespace {

std::int64_t at(const char* rfc3339) {
  auto t = bkp::util::parse_rfc3339(rfc3339);
  REQUIRE(t);
  return *t;
}

std::set<std::string> kept(const std::vector<PolicyInput>& in, const RetentionPolicy& p) {
  std::set<std::string> out;
  for (auto& d : apply_retention(in, p))
    if (d.keep) out.insert(d.id);
  return out;
}

std::vector<std::string> reasons_of(const std::vector<PolicyInput>& in, const RetentionPolicy& p,
                                    const std::string& id) {
  for (auto& d : apply_retention(in, p))
    if (d.id == id) return d.reasons;
  return {};
}

// One snapshot a day at 10:00 and 22:00 from 2024-01-01 for `days` days.
std::vector<PolicyInput> twice_daily(int days) {
  std::vector<PolicyInput> v;
  auto base = at("2024-01-01T10:00:00Z");
  for (int d = 0; d < days; ++d) {
    for (int h : {0, 12}) {
      auto t = base + (static_cast<std::int64_t>(d) * 24 + h) * 3600 * 1'000'000'000LL;
      v.push_back({bkp::util::format_rfc3339(t).substr(0, 13), t, "db@host", {}, false});
    }
  }
  return v;
}

}  // namespace

TEST_CASE("an empty policy keeps everything", "[retention]") {
  auto in = twice_daily(3);
  CHECK(kept(in, {}).size() == in.size());
}

TEST_CASE("keep-last keeps the newest N of each group", "[retention]") {
  auto in = twice_daily(3);  // 6 snapshots
  in.push_back({"other", at("2020-01-01T00:00:00Z"), "files@host", {}, false});
  RetentionPolicy p;
  p.last = 2;
  CHECK(kept(in, p) == std::set<std::string>{"2024-01-03T10", "2024-01-03T22", "other"});
  p.last = 100;  // more than there are
  CHECK(kept(in, p).size() == in.size());
}

TEST_CASE("keep-daily keeps the newest snapshot of each of the last N days", "[retention]") {
  auto in = twice_daily(5);
  RetentionPolicy p;
  p.daily = 3;
  CHECK(kept(in, p) == std::set<std::string>{"2024-01-05T22", "2024-01-04T22", "2024-01-03T22"});
}

TEST_CASE("days without snapshots do not count against keep-daily", "[retention]") {
  std::vector<PolicyInput> in{{"a", at("2024-01-01T12:00:00Z"), "g", {}, false},
                              {"b", at("2024-01-10T12:00:00Z"), "g", {}, false},
                              {"c", at("2024-01-20T12:00:00Z"), "g", {}, false}};
  RetentionPolicy p;
  p.daily = 2;
  CHECK(kept(in, p) == std::set<std::string>{"b", "c"});
}

TEST_CASE("keep-hourly, keep-monthly and keep-yearly use calendar buckets in UTC", "[retention]") {
  std::vector<PolicyInput> in{{"h1a", at("2024-03-31T23:10:00Z"), "g", {}, false},
                              {"h1b", at("2024-03-31T23:50:00Z"), "g", {}, false},
                              {"h2", at("2024-04-01T00:05:00Z"), "g", {}, false},
                              {"y23", at("2023-12-31T23:59:59Z"), "g", {}, false},
                              {"y22", at("2022-06-01T00:00:00Z"), "g", {}, false}};
  RetentionPolicy hourly;
  hourly.hourly = 2;
  CHECK(kept(in, hourly) == std::set<std::string>{"h2", "h1b"});
  RetentionPolicy monthly;
  monthly.monthly = 2;  // April 2024, March 2024
  CHECK(kept(in, monthly) == std::set<std::string>{"h2", "h1b"});
  RetentionPolicy yearly;
  yearly.yearly = 3;
  CHECK(kept(in, yearly) == std::set<std::string>{"h2", "y23", "y22"});
}

TEST_CASE("keep-weekly uses ISO weeks that span a new year", "[retention]") {
  // 2024-12-30 (Monday) and 2025-01-05 (Sunday) are both in ISO week 2025-W01;
  // 2024-12-29 (Sunday) is in 2024-W52.
  std::vector<PolicyInput> in{{"w52", at("2024-12-29T12:00:00Z"), "g", {}, false},
                              {"w01a", at("2024-12-30T12:00:00Z"), "g", {}, false},
                              {"w01b", at("2025-01-05T12:00:00Z"), "g", {}, false}};
  RetentionPolicy p;
  p.weekly = 2;
  CHECK(kept(in, p) == std::set<std::string>{"w01b", "w52"});
  p.weekly = 1;
  CHECK(kept(in, p) == std::set<std::string>{"w01b"});
}

TEST_CASE("keep-within is measured from the group's newest snapshot, inclusive", "[retention]") {
  auto in = twice_daily(10);
  RetentionPolicy p;
  auto d = parse_duration("2d");
  REQUIRE(d);
  p.within_ns = *d;
  // Newest 2024-01-10T22; two days back is exactly 2024-01-08T22, kept.
  CHECK(kept(in, p) == std::set<std::string>{"2024-01-08T22", "2024-01-09T10", "2024-01-09T22",
                                             "2024-01-10T10", "2024-01-10T22"});
  auto decisions = apply_retention(in, p);
  auto it = std::find_if(decisions.begin(), decisions.end(),
                         [](auto& x) { return x.id == "2024-01-10T22"; });
  CHECK(it->retention_until.substr(0, 19) == "2024-01-12T22:00:00");
}

TEST_CASE("keep-tag and holds keep snapshots whatever their age", "[retention]") {
  auto in = twice_daily(4);
  in[0].tags = {"monthly-audit"};
  in[1].held = true;
  RetentionPolicy p;
  p.last = 1;
  p.tags = {"monthly-audit"};
  CHECK(kept(in, p) == std::set<std::string>{"2024-01-04T22", "2024-01-01T10", "2024-01-01T22"});
  CHECK(reasons_of(in, p, "2024-01-01T22") == std::vector<std::string>{"hold"});
  auto d = apply_retention(in, p);
  CHECK(d[1].retention_until == "9999-12-31T23:59:59Z");
}

TEST_CASE("rules combine: a snapshot is kept when any rule keeps it", "[retention]") {
  auto in = twice_daily(10);
  RetentionPolicy p;
  p.last = 1;
  p.daily = 2;
  p.weekly = 2;  // 2024-01-07 (Sunday) ends the first ISO week of 2024
  CHECK(kept(in, p) == std::set<std::string>{"2024-01-10T22", "2024-01-09T22", "2024-01-07T22"});
  CHECK(reasons_of(in, p, "2024-01-10T22") == std::vector<std::string>{"last", "daily", "weekly"});
}

TEST_CASE("groups are independent and equal times are ordered by id", "[retention]") {
  auto t = at("2024-01-01T00:00:00Z");
  std::vector<PolicyInput> in{
      {"b", t, "g1", {}, false}, {"a", t, "g1", {}, false}, {"c", t, "g2", {}, false}};
  RetentionPolicy p;
  p.last = 1;
  CHECK(kept(in, p) == std::set<std::string>{"b", "c"});
}

TEST_CASE("durations and sizes parse, and bad ones are usage errors", "[retention]") {
  CHECK(*parse_duration("90d") == 90LL * 86400 * 1'000'000'000);
  CHECK(*parse_duration("1d12h") == 36LL * 3600 * 1'000'000'000);
  CHECK(*parse_duration("30s") == 30LL * 1'000'000'000);
  for (auto bad : {"", "d", "10", "5x", "-1d", "1.5d"}) {
    auto r = parse_duration(bad);
    INFO(bad);
    REQUIRE(!r);
    CHECK(r.error().kind == bkp::util::ErrorKind::usage);
  }
  CHECK(*parse_size("1024") == 1024);
  CHECK(*parse_size("2G") == 2ull << 30);
  CHECK(*parse_size("10KiB") == 10240);
  CHECK(!parse_size("lots"));
  CHECK(!parse_size("5Q"));
}
