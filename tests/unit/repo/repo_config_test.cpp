#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "repo/repo_config.hpp"

using namespace bkp;
using util::ErrorKind;

namespace {

repo::RepoConfig sample() {
  repo::RepoConfig c;
  c.id = std::string(64, 'a');
  c.created = "2024-05-01T10:00:00Z";
  c.compression = {compress::Codec::zstd, 3};
  return c;
}

util::Result<repo::RepoConfig> decode(const nlohmann::json& j) {
  return repo::RepoConfig::decode(util::as_bytes(j.dump()));
}

}  // namespace

TEST_CASE("repo config: round trip") {
  auto c = sample();
  auto d = repo::RepoConfig::decode(c.encode());
  REQUIRE(d.ok());
  CHECK(d->version == c.version);
  CHECK(d->id == c.id);
  CHECK(d->created == c.created);
  CHECK(d->chunker.min_size == c.chunker.min_size);
  CHECK(d->chunker.avg_size == c.chunker.avg_size);
  CHECK(d->chunker.max_size == c.chunker.max_size);
  CHECK(d->compression.codec == compress::Codec::zstd);
  CHECK(d->compression.level == 3);
  CHECK(d->pack_size == c.pack_size);
  CHECK(d->blob_id == crypto::BlobIdAlgorithm::hmac_sha256);
}

TEST_CASE("repo config: the blob id algorithm follows the format version") {
  auto j = nlohmann::json::parse(util::as_chars(sample().encode()));
  CHECK(j["version"] == 2);
  CHECK(j["blob_id"] == "hmac-sha256");
  SECTION("format 1 is keyed BLAKE2b and has no field") {
    auto k = j;
    k["version"] = 1;
    k.erase("blob_id");
    auto r = decode(k);
    REQUIRE(r.ok());
    CHECK(r->blob_id == crypto::BlobIdAlgorithm::keyed_blake2b);
    // Written back, it stays format 1 without the field.
    auto again = nlohmann::json::parse(util::as_chars(r->encode()));
    CHECK(again["version"] == 1);
    CHECK_FALSE(again.contains("blob_id"));
    k["blob_id"] = "hmac-sha256";
    CHECK_FALSE(decode(k).ok());
  }
  SECTION("format 2 names a known algorithm") {
    auto k = j;
    k["blob_id"] = "blake2b-256-keyed";
    REQUIRE(decode(k).ok());
    CHECK(decode(k)->blob_id == crypto::BlobIdAlgorithm::keyed_blake2b);
    k["blob_id"] = "md5";
    auto r = decode(k);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("md5") != std::string::npos);
    k.erase("blob_id");
    CHECK_FALSE(decode(k).ok());
  }
  SECTION("a newer format is refused with advice") {
    auto k = j;
    k["version"] = 3;
    auto r = decode(k);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("upgrade bkp") != std::string::npos);
  }
}

// Found by fuzzing: nlohmann's get<std::size_t>() converted floats with
// static_cast, undefined behaviour out of range (1310e72) and silent
// truncation within (1.5 -> 1).
TEST_CASE("repo config: numbers must be integers in range") {
  auto j = nlohmann::json::parse(util::as_chars(sample().encode()));
  SECTION("float chunker sizes") {
    for (auto field : {"min_size", "avg_size", "max_size"}) {
      auto k = j;
      k["chunker"][field] = 1310e72;
      auto r = decode(k);
      REQUIRE_FALSE(r.ok());
      CHECK(r.error().kind == ErrorKind::no_repository);
      k["chunker"][field] = static_cast<double>(j["chunker"][field].get<std::size_t>());
      CHECK_FALSE(decode(k).ok());
    }
  }
  SECTION("float or negative pack size") {
    for (nlohmann::json v : {nlohmann::json(1e300), nlohmann::json(-1e300),
                             nlohmann::json(16777216.0), nlohmann::json(-1)}) {
      auto k = j;
      k["pack_size"] = v;
      CHECK_FALSE(decode(k).ok());
    }
  }
  SECTION("float version") {
    for (double v : {1.0, 1e300, -1e300}) {
      auto k = j;
      k["version"] = v;
      auto r = decode(k);
      REQUIRE_FALSE(r.ok());
      CHECK(r.error().kind == ErrorKind::no_repository);
    }
  }
  SECTION("a version beyond int asks for nothing it cannot parse") {
    auto k = j;
    k["version"] = std::uint64_t{1} << 40;
    auto r = decode(k);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::no_repository);
  }
}
