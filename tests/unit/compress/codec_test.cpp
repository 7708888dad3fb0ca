#include <catch2/catch.hpp>

#include <lz4.h>
#include <zstd.h>

#include <cstring>
#include <random>
#include <string>

#include "compress/codec.hpp"
#include "util/bytes.hpp"

using namespace bkp;
using bkp::compress::Codec;
using bkp::compress::Spec;
using bkp::util::Bytes;
using bkp::util::ErrorKind;

namespace {

// Text that compresses well, like a SQL dump.
Bytes compressible(std::size_t n) {
  Bytes out;
  std::mt19937 rng(42);
  while (out.size() < n) {
    std::string line = std::to_string(rng() % 100000) + "\talice\tBerlin\t" +
                       std::to_string(rng() % 1000) + ".00\t2024-01-01\n";
    util::append(out, util::as_bytes(line));
  }
  out.resize(n);
  return out;
}

Bytes incompressible(std::size_t n) {
  Bytes out(n);
  std::mt19937_64 rng(7);
  for (auto& b : out) b = static_cast<std::uint8_t>(rng());
  return out;
}

const Spec all_specs[] = {{Codec::zstd, 0}, {Codec::zstd, 1}, {Codec::zstd, 19}, {Codec::lz4, 0}};

}  // namespace

TEST_CASE("compress and decompress round trip for every codec", "[codec]") {
  for (std::size_t size : {2u, 100u, 4096u, 1u << 20}) {
    auto data = compressible(size);
    for (const auto& spec : all_specs) {
      INFO(compress::to_string(spec) << " size " << size);
      auto c = compress::compress(spec, data);
      if (size < 100) continue;  // tiny inputs need not shrink
      REQUIRE(c.has_value());
      CHECK(c->size() < data.size());
      auto d = compress::decompress(spec.codec, *c, data.size());
      REQUIRE(d.ok());
      CHECK(*d == data);
    }
  }
}

TEST_CASE("compress returns nullopt when output would not be smaller", "[codec]") {
  auto noise = incompressible(64 * 1024);
  for (const auto& spec : all_specs) {
    CHECK_FALSE(compress::compress(spec, noise).has_value());
    CHECK_FALSE(compress::compress(spec, {}).has_value());
    CHECK_FALSE(compress::compress(spec, Bytes{1}).has_value());
  }
  CHECK_FALSE(compress::compress({Codec::none, 0}, compressible(10000)).has_value());
}

TEST_CASE("compress_into writes what compress returns, or 0 when it would not shrink", "[codec]") {
  auto text = compressible(300000);
  auto noise = incompressible(64 * 1024);
  for (const auto& spec : all_specs) {
    INFO(compress::to_string(spec));
    const std::size_t bound = compress::compress_bound(spec, text.size());
    REQUIRE(bound >= text.size());
    Bytes out(bound + 8, 0xAA);
    const std::size_t n = compress::compress_into(spec, text, out.data(), bound);
    REQUIRE(n > 0);
    REQUIRE(n < text.size());
    CHECK(Bytes(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n)) ==
          *compress::compress(spec, text));
    CHECK(out[bound] == 0xAA);  // nothing written past the room given
    auto d = compress::decompress(spec.codec, util::ByteView(out).first(n), text.size());
    REQUIRE(d.ok());
    CHECK(*d == text);

    Bytes room(compress::compress_bound(spec, noise.size()));
    CHECK(compress::compress_into(spec, noise, room.data(), room.size()) == 0);
    CHECK(compress::compress_into(spec, Bytes{1}, room.data(), room.size()) == 0);
    // Too little room is "not smaller", never an overrun.
    Bytes small(16);
    CHECK(compress::compress_into(spec, text, small.data(), small.size()) == 0);
  }
  CHECK(compress::compress_bound({Codec::none, 0}, 1000) == 0);
  Bytes room(2000);
  CHECK(compress::compress_into({Codec::none, 0}, compressible(1000), room.data(), room.size()) ==
        0);
}

TEST_CASE("level 0 uses bkp's default zstd level and out-of-range levels clamp", "[codec]") {
  auto data = compressible(1 << 18);
  auto def = compress::compress({Codec::zstd, 0}, data);
  auto explicit_default = compress::compress({Codec::zstd, compress::default_zstd_level}, data);
  REQUIRE(def.has_value());
  REQUIRE(explicit_default.has_value());
  CHECK(*def == *explicit_default);
  auto neg = compress::compress({Codec::zstd, -5}, data);
  auto lvl1 = compress::compress({Codec::zstd, 1}, data);
  REQUIRE(neg.has_value());
  CHECK(*neg == *lvl1);
  auto huge = compress::compress({Codec::zstd, 99}, data);
  auto lvl19 = compress::compress({Codec::zstd, 19}, data);
  REQUIRE(huge.has_value());
  CHECK(*huge == *lvl19);
}

TEST_CASE("decompress none checks the size", "[codec]") {
  auto data = util::to_bytes("raw bytes");
  auto ok = compress::decompress(Codec::none, data, data.size());
  REQUIRE(ok.ok());
  CHECK(*ok == data);
  auto empty = compress::decompress(Codec::none, {}, 0);
  REQUIRE(empty.ok());
  CHECK(empty->empty());
  auto bad = compress::decompress(Codec::none, data, data.size() + 1);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().kind == ErrorKind::corrupt);
}

TEST_CASE("decompress rejects a wrong raw size", "[codec]") {
  auto data = compressible(50000);
  for (const auto& spec : all_specs) {
    auto c = compress::compress(spec, data);
    REQUIRE(c.has_value());
    for (std::size_t wrong : {data.size() - 1, data.size() + 1, std::size_t{0}, std::size_t{10}}) {
      INFO(compress::to_string(spec) << " raw " << wrong);
      auto r = compress::decompress(spec.codec, *c, wrong);
      REQUIRE_FALSE(r.ok());
      CHECK(r.error().kind == ErrorKind::corrupt);
      CHECK(r.error().message.starts_with("decompressing "));
    }
  }
}

TEST_CASE("decompress rejects hostile raw sizes without allocating", "[codec]") {
  auto data = compressible(50000);
  auto c = compress::compress({Codec::zstd, 0}, data);
  REQUIRE(c.has_value());
  for (Codec codec : {Codec::zstd, Codec::lz4, Codec::none}) {
    for (std::size_t raw : {compress::max_raw_size + 1, std::size_t{1} << 40, SIZE_MAX}) {
      auto r = compress::decompress(codec, *c, raw);
      REQUIRE_FALSE(r.ok());
      CHECK(r.error().kind == ErrorKind::corrupt);
      CHECK(r.error().message.find("exceeds the limit") != std::string::npos);
    }
  }
}

TEST_CASE("decompress detects corrupted and truncated input", "[codec]") {
  auto data = compressible(200000);
  for (const auto& spec : all_specs) {
    auto c = compress::compress(spec, data);
    REQUIRE(c.has_value());
    INFO(compress::to_string(spec));
    // Truncations: never the original data.
    for (std::size_t n : {std::size_t{0}, std::size_t{1}, c->size() / 2, c->size() - 1}) {
      auto r = compress::decompress(spec.codec, util::ByteView(*c).first(n), data.size());
      REQUIRE_FALSE(r.ok());
      CHECK(r.error().kind == ErrorKind::corrupt);
    }
    // Garbage of the right length, and trailing garbage.
    auto garbage = incompressible(c->size());
    auto g = compress::decompress(spec.codec, garbage, data.size());
    REQUIRE_FALSE(g.ok());
    CHECK(g.error().kind == ErrorKind::corrupt);
    Bytes trailing = *c;
    util::append(trailing, incompressible(16));
    auto t = compress::decompress(spec.codec, trailing, data.size());
    REQUIRE_FALSE(t.ok());
    CHECK(t.error().kind == ErrorKind::corrupt);
    // Bit flips: never crash; any success must not go unnoticed by size.
    std::mt19937 rng(3);
    for (int i = 0; i < 200; ++i) {
      Bytes flipped = *c;
      flipped[rng() % flipped.size()] ^= static_cast<std::uint8_t>(1u << (rng() % 8));
      auto r = compress::decompress(spec.codec, flipped, data.size());
      if (r.ok())
        CHECK(r->size() == data.size());
      else
        CHECK(r.error().kind == ErrorKind::corrupt);
    }
  }
}

TEST_CASE("decompress rejects an unknown codec value", "[codec]") {
  auto r = compress::decompress(static_cast<Codec>(9), util::as_bytes("x"), 1);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind == ErrorKind::corrupt);
  CHECK(r.error().message.find("unknown codec 9") != std::string::npos);
  CHECK(compress::codec_name(static_cast<Codec>(9)) == "unknown");
  CHECK_FALSE(compress::compress({static_cast<Codec>(9), 0}, compressible(1000)).has_value());
}

TEST_CASE("output is the codecs' standard format", "[codec]") {
  // Pack readers and other tools rely on plain zstd frames / raw lz4 blocks.
  auto data = compressible(30000);
  auto z = compress::compress({Codec::zstd, 3}, data);
  REQUIRE(z.has_value());
  Bytes out(data.size());
  CHECK(ZSTD_decompress(out.data(), out.size(), z->data(), z->size()) == data.size());
  CHECK(out == data);
  auto l = compress::compress({Codec::lz4, 0}, data);
  REQUIRE(l.has_value());
  std::fill(out.begin(), out.end(), 0);
  CHECK(LZ4_decompress_safe(reinterpret_cast<const char*>(l->data()),
                            reinterpret_cast<char*>(out.data()), static_cast<int>(l->size()),
                            static_cast<int>(out.size())) == static_cast<int>(data.size()));
  CHECK(out == data);
}

TEST_CASE("parse_spec accepts the documented forms", "[spec]") {
  auto z = compress::parse_spec("zstd");
  REQUIRE(z.ok());
  CHECK(z->codec == Codec::zstd);
  CHECK(z->level == 0);
  auto z7 = compress::parse_spec("zstd:7");
  REQUIRE(z7.ok());
  CHECK(z7->level == 7);
  CHECK(compress::parse_spec("zstd:1").ok());
  CHECK(compress::parse_spec("zstd:19").ok());
  auto l = compress::parse_spec("lz4");
  REQUIRE(l.ok());
  CHECK(l->codec == Codec::lz4);
  auto n = compress::parse_spec("none");
  REQUIRE(n.ok());
  CHECK(n->codec == Codec::none);
}

TEST_CASE("parse_spec rejects everything else with a usage error", "[spec]") {
  for (std::string_view bad :
       {"", "ZSTD", "zstd:", "zstd:0", "zstd:20", "zstd:-1", "zstd:+3", "zstd:3x", "zstd: 3",
        "zstd:99999999999", "lz4:1", "gzip", "none:1", "zstd3", " zstd"}) {
    INFO("'" << bad << "'");
    auto r = compress::parse_spec(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::usage);
    CHECK(r.error().message == "invalid compression '" + std::string(bad) +
                                   "': expected one of zstd, zstd:LEVEL (LEVEL 1-19), lz4, none");
  }
}

TEST_CASE("to_string gives the canonical text and round-trips", "[spec]") {
  CHECK(compress::to_string({Codec::zstd, 0}) == "zstd");
  CHECK(compress::to_string({Codec::zstd, 9}) == "zstd:9");
  CHECK(compress::to_string({Codec::lz4, 0}) == "lz4");
  CHECK(compress::to_string({Codec::none, 0}) == "none");
  for (std::string_view text : {"zstd", "zstd:1", "zstd:19", "lz4", "none"}) {
    auto s = compress::parse_spec(text);
    REQUIRE(s.ok());
    CHECK(compress::to_string(*s) == text);
  }
  CHECK(compress::codec_name(Codec::zstd) == "zstd");
  CHECK(static_cast<int>(Codec::none) == 0);  // stored in pack headers
  CHECK(static_cast<int>(Codec::zstd) == 1);
  CHECK(static_cast<int>(Codec::lz4) == 2);
}
