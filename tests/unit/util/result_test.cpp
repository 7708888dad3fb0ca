#include <catch2/catch.hpp>

#include "util/result.hpp"

using namespace bkp::util;

namespace {
Result<int> parse_positive(int v) {
  if (v <= 0) return fail(ErrorKind::usage, "not positive");
  return v;
}
Result<int> doubled(int v) {
  BKP_ASSIGN(int x, parse_positive(v));
  return x * 2;
}
Status check(int v) {
  BKP_TRY(parse_positive(v));
  return {};
}
}  // namespace

TEST_CASE("Result carries a value or an error", "[result]") {
  auto good = doubled(21);
  REQUIRE(good.ok());
  CHECK(*good == 42);
  auto bad = doubled(-1);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().kind == ErrorKind::usage);
  CHECK(bad.error().message == "not positive");
  CHECK(check(3).ok());
  CHECK_FALSE(check(0).ok());
}

TEST_CASE("error kinds map to the documented exit codes", "[error]") {
  CHECK(exit_code(ErrorKind::generic) == 1);
  CHECK(exit_code(ErrorKind::usage) == 2);
  CHECK(exit_code(ErrorKind::partial) == 3);
  CHECK(exit_code(ErrorKind::no_repository) == 10);
  CHECK(exit_code(ErrorKind::locked) == 11);
  CHECK(exit_code(ErrorKind::wrong_key) == 12);
  CHECK(exit_code(ErrorKind::verification) == 13);
  CHECK(exit_code(ErrorKind::interrupted) == 130);
  CHECK(exit_code(ErrorKind::auth) == 1);
  CHECK(kind_name(ErrorKind::verification) == "verification_failed");
  auto e = make_error(ErrorKind::io, "disk full").context("writing 'x'");
  CHECK(e.message == "writing 'x': disk full");
  CHECK(e.kind == ErrorKind::io);
}
