#include <catch2/catch.hpp>

#include "chunk/chunker.hpp"
#include "chunk_test_util.hpp"

using namespace bkp;
using bkp::chunk::Chunker;
using bkp::chunk::Params;
using bkp::test::buffer_reader;
using bkp::test::cut_all;
using bkp::test::seed_0_to_31;
using bkp::test::xorshift_bytes;

namespace {

const Params small{2048, 8192, 65536};

struct Collected {
  std::vector<std::size_t> lens;
  util::Bytes joined;
};

chunk::EmitFn collector(Collected& c) {
  return [&c](util::ByteView chunk) -> util::Status {
    c.lens.push_back(chunk.size());
    util::append(c.joined, chunk);
    return {};
  };
}

}  // namespace

TEST_CASE("chunk_stream gives the same boundaries for any read sizes", "[stream]") {
  Chunker c(small, seed_0_to_31());
  auto data = xorshift_bytes(1024 * 1024 + 333, 99);
  // Mixed content: a run of zeros forces max-size cuts in the middle.
  std::fill(data.begin() + 300000, data.begin() + 500000, 0);
  const auto expected = cut_all(c, data);
  const std::vector<std::function<std::size_t(std::size_t)>> steps{
      [](std::size_t) { return std::size_t{1} << 30; },
      [](std::size_t) { return std::size_t{1}; },
      [](std::size_t i) { return 1 + (i * 7919) % 10007; },
      [](std::size_t i) { return i % 3 == 0 ? 65536 : 13; },
      [](std::size_t) { return std::size_t{65535}; },
  };
  for (std::size_t s = 0; s < steps.size(); ++s) {
    INFO("step pattern " << s);
    std::size_t pos = 0;
    Collected got;
    auto st = chunk::chunk_stream(c, buffer_reader(data, pos, steps[s]), collector(got));
    REQUIRE(st.ok());
    CHECK(got.lens == expected);
    CHECK(got.joined == data);
  }
}

TEST_CASE("chunk_stream with default params on a multi-megabyte stream", "[stream]") {
  Chunker c(Params{}, seed_0_to_31());
  auto data = xorshift_bytes(20 * 1024 * 1024);
  std::size_t pos = 0;
  Collected got;
  auto st = chunk::chunk_stream(
      c, buffer_reader(data, pos, [](std::size_t i) { return 4096 + (i % 5) * 100000; }),
      collector(got));
  REQUIRE(st.ok());
  CHECK(got.lens == cut_all(c, data));
  CHECK(got.joined == data);
}

TEST_CASE("chunk_stream on empty and tiny input", "[stream]") {
  Chunker c(small, seed_0_to_31());
  std::size_t pos = 0;
  Collected got;
  util::Bytes empty;
  REQUIRE(chunk::chunk_stream(c, buffer_reader(empty, pos, [](std::size_t) { return 10; }),
                              collector(got))
              .ok());
  CHECK(got.lens.empty());
  util::Bytes tiny = util::to_bytes("x");
  pos = 0;
  REQUIRE(chunk::chunk_stream(c, buffer_reader(tiny, pos, [](std::size_t) { return 10; }),
                              collector(got))
              .ok());
  CHECK(got.lens == std::vector<std::size_t>{1});
}

TEST_CASE("chunk_stream propagates reader and emitter errors", "[stream]") {
  Chunker c(small, seed_0_to_31());
  auto data = xorshift_bytes(200000);
  SECTION("reader error stops the stream") {
    int calls = 0;
    chunk::ReadFn failing = [&](std::uint8_t* buf, std::size_t cap) -> util::Result<std::size_t> {
      if (++calls == 3) return util::fail(util::ErrorKind::io, "reading 'x': disk on fire");
      std::size_t n = std::min<std::size_t>(cap, 1000);
      std::memcpy(buf, data.data(), n);
      return n;
    };
    Collected got;
    auto st = chunk::chunk_stream(c, failing, collector(got));
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().kind == util::ErrorKind::io);
    CHECK(st.error().message == "reading 'x': disk on fire");
    CHECK(got.lens.empty());
  }
  SECTION("emitter error stops the stream") {
    std::size_t pos = 0;
    int emitted = 0;
    auto st = chunk::chunk_stream(c, buffer_reader(data, pos, [](std::size_t) { return 1 << 20; }),
                                  [&](util::ByteView) -> util::Status {
                                    if (++emitted == 2)
                                      return util::fail(util::ErrorKind::generic, "storage full");
                                    return {};
                                  });
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().message == "storage full");
    CHECK(emitted == 2);
  }
  SECTION("a reader claiming more than the buffer is an error") {
    chunk::ReadFn liar = [](std::uint8_t*, std::size_t cap) -> util::Result<std::size_t> {
      return cap + 1;
    };
    auto st = chunk::chunk_stream(c, liar, [](util::ByteView) -> util::Status { return {}; });
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().message.find("reader returned") != std::string::npos);
  }
}

TEST_CASE("fixed_blocks cuts fixed sizes with a short last block", "[fixed]") {
  auto data = xorshift_bytes(10 * 8192 + 100);
  for (std::size_t step : {std::size_t{1} << 20, std::size_t{8192}, std::size_t{777}}) {
    std::size_t pos = 0;
    Collected got;
    auto st = chunk::fixed_blocks(
        8192, buffer_reader(data, pos, [step](std::size_t) { return step; }), collector(got));
    REQUIRE(st.ok());
    std::vector<std::size_t> expected(10, 8192);
    expected.push_back(100);
    CHECK(got.lens == expected);
    CHECK(got.joined == data);
  }
  SECTION("exact multiple has no empty tail block") {
    auto exact = xorshift_bytes(3 * 4096);
    std::size_t pos = 0;
    Collected got;
    REQUIRE(chunk::fixed_blocks(4096, buffer_reader(exact, pos, [](std::size_t) { return 5000; }),
                                collector(got))
                .ok());
    CHECK(got.lens == std::vector<std::size_t>{4096, 4096, 4096});
  }
  SECTION("empty input emits nothing") {
    util::Bytes empty;
    std::size_t pos = 0;
    Collected got;
    REQUIRE(chunk::fixed_blocks(4096, buffer_reader(empty, pos, [](std::size_t) { return 1; }),
                                collector(got))
                .ok());
    CHECK(got.lens.empty());
  }
}

TEST_CASE("fixed_blocks rejects a zero block size and propagates errors", "[fixed]") {
  auto data = xorshift_bytes(100000);
  std::size_t pos = 0;
  Collected got;
  auto zero = chunk::fixed_blocks(0, buffer_reader(data, pos, [](std::size_t) { return 10; }),
                                  collector(got));
  REQUIRE_FALSE(zero.ok());
  CHECK(zero.error().kind == util::ErrorKind::usage);

  chunk::ReadFn failing = [](std::uint8_t*, std::size_t) -> util::Result<std::size_t> {
    return util::fail(util::ErrorKind::io, "reading 'base/1': permission denied");
  };
  auto rd = chunk::fixed_blocks(4096, failing, collector(got));
  REQUIRE_FALSE(rd.ok());
  CHECK(rd.error().kind == util::ErrorKind::io);

  pos = 0;
  auto em = chunk::fixed_blocks(
      4096, buffer_reader(data, pos, [](std::size_t) { return 4096; }),
      [](util::ByteView) -> util::Status { return util::fail(util::ErrorKind::generic, "full"); });
  REQUIRE_FALSE(em.ok());
  CHECK(em.error().message == "full");

  chunk::ReadFn liar = [](std::uint8_t*, std::size_t cap) -> util::Result<std::size_t> {
    return cap + 5;
  };
  auto li = chunk::fixed_blocks(4096, liar, collector(got));
  REQUIRE_FALSE(li.ok());
  CHECK(li.error().message.find("reader returned") != std::string::npos);
}
