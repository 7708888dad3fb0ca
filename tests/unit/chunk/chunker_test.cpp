#include <catch2/catch.hpp>

#include <stdexcept>

#include "chunk/chunker.hpp"
#include "chunk/gear.hpp"
#include "chunk_test_util.hpp"

using namespace bkp;
using bkp::chunk::Chunker;
using bkp::chunk::Params;
using bkp::test::cut_all;
using bkp::test::seed_0_to_31;
using bkp::test::xorshift_bytes;

namespace {

const Params small{2048, 8192, 65536};

}  // namespace

// Golden values: chunk boundaries are part of the repository format. They
// were cross-checked with an independent Python implementation of
// doc/chunking.md. If this test fails, boundaries moved: existing
// repositories would stop deduplicating against new backups.
TEST_CASE("gear table derivation is fixed", "[chunk][golden]") {
  auto gear = chunk::detail::derive_gear(seed_0_to_31());
  CHECK(gear[0] == 0x296ac4b29a501fd9ull);
  CHECK(gear[1] == 0x9db4f6efc4cf440aull);
  CHECK(gear[255] == 0xdca25d618e7e1c1bull);
}

TEST_CASE("golden chunk lengths with small params", "[chunk][golden]") {
  Chunker c(small, seed_0_to_31());
  auto data = xorshift_bytes(256 * 1024);
  const std::vector<std::size_t> expected{
      8640,  8967, 8363, 9727, 12026, 10754, 10327, 11773, 11374, 11283, 13122, 12263, 7189,  9097,
      12492, 8564, 9499, 9192, 8584,  8297,  9804,  8928,  9193,  8500,  7219,  4790,  10725, 1452};
  CHECK(cut_all(c, data) == expected);
}

TEST_CASE("golden chunk lengths with default params", "[chunk][golden]") {
  Chunker c(Params{}, seed_0_to_31());
  auto data = xorshift_bytes(20 * 1024 * 1024);
  const std::vector<std::size_t> expected{1157252, 1271184, 1113025, 1190986, 611821,  2030023,
                                          1404652, 1334621, 1220486, 2033035, 1169461, 1235946,
                                          1176577, 1085744, 992113,  1904782, 39812};
  CHECK(cut_all(c, data) == expected);
}

TEST_CASE("default params are the documented ones", "[chunk]") {
  Params p;
  CHECK(p.min_size == 512 * 1024);
  CHECK(p.avg_size == 1024 * 1024);
  CHECK(p.max_size == 8 * 1024 * 1024);
  CHECK(chunk::validate_params(p).ok());
}

TEST_CASE("a different seed gives different boundaries", "[chunk]") {
  auto data = xorshift_bytes(512 * 1024);
  auto seed2 = seed_0_to_31();
  seed2[0] ^= 1;
  Chunker a(small, seed_0_to_31());
  Chunker b(small, seed2);
  CHECK(cut_all(a, data) != cut_all(b, data));
}

TEST_CASE("chunks respect min and max sizes", "[chunk]") {
  Chunker c(small, seed_0_to_31());
  SECTION("random data") {
    auto data = xorshift_bytes(4 * 1024 * 1024, 12345);
    auto lens = cut_all(c, data);
    REQUIRE(lens.size() > 100);
    for (std::size_t i = 0; i + 1 < lens.size(); ++i) {
      CHECK(lens[i] > small.min_size);
      CHECK(lens[i] <= small.max_size);
    }
    // Normalized chunking keeps the mean near avg_size.
    const double mean = 4.0 * 1024 * 1024 / static_cast<double>(lens.size());
    CHECK(mean > 0.8 * small.avg_size);
    CHECK(mean < 1.5 * small.avg_size);
  }
  SECTION("constant data has no boundaries and is cut at max_size") {
    util::Bytes zeros(300000, 0);
    auto lens = cut_all(c, zeros);
    const std::vector<std::size_t> expected{65536, 65536, 65536, 65536, 37856};
    CHECK(lens == expected);
  }
}

TEST_CASE("cut asks for more data unless final", "[chunk]") {
  Chunker c(small, seed_0_to_31());
  auto data = xorshift_bytes(256 * 1024);
  const std::size_t first = c.cut(data, false);
  REQUIRE(first == 8640);
  // Empty input: nothing to cut either way.
  CHECK(c.cut({}, false) == 0);
  CHECK(c.cut({}, true) == 0);
  // At most min_size bytes: no boundary can be known yet.
  CHECK(c.cut(util::ByteView(data).first(100), false) == 0);
  CHECK(c.cut(util::ByteView(data).first(small.min_size), false) == 0);
  CHECK(c.cut(util::ByteView(data).first(100), true) == 100);
  CHECK(c.cut(util::ByteView(data).first(small.min_size), true) == small.min_size);
  // Up to the boundary but not including it: more data needed.
  CHECK(c.cut(util::ByteView(data).first(first - 1), false) == 0);
  CHECK(c.cut(util::ByteView(data).first(first - 1), true) == first - 1);
  // The boundary depends only on the bytes before it.
  CHECK(c.cut(util::ByteView(data).first(first), false) == first);
  CHECK(c.cut(util::ByteView(data).first(first + 1), false) == first);
  // With max_size bytes available a cut is always possible.
  util::Bytes zeros(small.max_size, 0);
  CHECK(c.cut(zeros, false) == small.max_size);
  CHECK(c.cut(util::ByteView(zeros).first(small.max_size - 1), false) == 0);
  CHECK(c.cut(util::ByteView(zeros).first(small.max_size - 1), true) == small.max_size - 1);
}

TEST_CASE("boundaries resynchronise after an insertion", "[chunk]") {
  Chunker c(Params{}, seed_0_to_31());
  auto data = xorshift_bytes(32 * 1024 * 1024, 777);
  util::Bytes edited = data;
  const std::string_view insertion = "0123456789";
  edited.insert(edited.begin() + static_cast<std::ptrdiff_t>(data.size() / 2), insertion.begin(),
                insertion.end());
  REQUIRE(edited.size() == data.size() + 10);

  auto collect = [&](util::ByteView d) {
    std::vector<std::string> out;
    for (auto len : cut_all(c, d)) {
      out.emplace_back(util::as_chars(d.first(len)));
      d = d.subspan(len);
    }
    return out;
  };
  auto before = collect(data);
  auto after = collect(edited);
  std::sort(before.begin(), before.end());
  std::sort(after.begin(), after.end());
  std::vector<std::string> shared;
  std::set_intersection(before.begin(), before.end(), after.begin(), after.end(),
                        std::back_inserter(shared));
  INFO("chunks before " << before.size() << ", after " << after.size() << ", shared "
                        << shared.size());
  REQUIRE(before.size() >= 20);
  CHECK(shared.size() * 10 >= before.size() * 8);
  // Only the chunk holding the edit (and at most its successor) changed.
  CHECK(shared.size() + 2 >= before.size());
}

TEST_CASE("invalid params and seeds are rejected", "[chunk]") {
  auto seed = seed_0_to_31();
  struct Case {
    Params p;
    const char* why;
  };
  const Case cases[] = {
      {{2048, 8000, 65536}, "power of two"},
      {{32, 8192, 65536}, "at least 64"},
      {{8192, 8192, 65536}, "below avg_size"},
      {{2048, 8192, 4096}, "at least avg_size"},
      {{2048, 8192, std::size_t{128} << 20}, "at most 64 MiB"},
      {{2048, 0, 65536}, "power of two"},
  };
  for (const auto& tc : cases) {
    auto st = chunk::validate_params(tc.p);
    INFO(tc.why);
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().kind == util::ErrorKind::corrupt);
    CHECK(st.error().message.find(tc.why) != std::string::npos);
    CHECK_THROWS_AS(Chunker(tc.p, seed), std::invalid_argument);
  }
  CHECK_THROWS_AS(Chunker(small, util::Bytes(16)), std::invalid_argument);
  CHECK_NOTHROW(Chunker(Params{64, 128, 128}, seed));
}
