#include "cloud_fixture.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>

namespace bkp::test {

std::string fresh_location(std::string_view scheme, std::string_view bucket) {
  static int n = 0;
  return std::string(scheme) + std::string(bucket) + "/run-" + std::to_string(++n) + "-" +
         std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
}

std::unique_ptr<storage::Backend> open_or_fail(const std::string& location,
                                               const storage::BackendOptions& options) {
  auto b = storage::open_backend(location, options);
  if (!b.ok()) FAIL("opening " << location << ": " << b.error().message);
  return std::move(*b);
}

void check_large_object(storage::Backend& b, std::size_t size, std::size_t part_boundary) {
  REQUIRE(part_boundary >= 10);
  REQUIRE(part_boundary + 10 <= size);
  util::Bytes big(size);
  for (std::size_t i = 0; i < size; ++i) big[i] = static_cast<std::uint8_t>(i * 7 + i / 4096);
  REQUIRE(b.put("data/big", big, storage::WriteMode::create_only).ok());
  auto again = b.put("data/big", util::as_bytes("small"), storage::WriteMode::create_only);
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().kind == util::ErrorKind::exists);
  auto twice = b.put("data/big", big, storage::WriteMode::create_only);
  REQUIRE_FALSE(twice.ok());
  CHECK(twice.error().kind == util::ErrorKind::exists);
  auto got = b.get("data/big");
  REQUIRE(got.ok());
  CHECK(*got == big);
  auto range = b.get_range("data/big", part_boundary - 10, 20);
  REQUIRE(range.ok());
  CHECK(std::equal(range->begin(), range->end(), big.begin() + (part_boundary - 10)));
  // An overwrite in parts replaces the object whole.
  big[5] ^= 0xff;
  big.resize(big.size() - 1000);
  REQUIRE(b.put("data/big", big, storage::WriteMode::overwrite).ok());
  auto info = b.stat("data/big");
  REQUIRE(info.ok());
  CHECK(info->size == big.size());
  auto head = b.get_range("data/big", 0, 16);
  REQUIRE(head.ok());
  CHECK((*head)[5] == big[5]);
}

}  // namespace bkp::test
