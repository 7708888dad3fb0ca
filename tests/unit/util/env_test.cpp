#include <catch2/catch.hpp>

#include <cstdlib>

#include "util/env.hpp"

using namespace bkp::util;

TEST_CASE("env: an empty variable counts as unset, a configured value wins", "[env]") {
  ::unsetenv("BKP_TEST_ENV_A");
  ::setenv("BKP_TEST_ENV_B", "", 1);
  ::setenv("BKP_TEST_ENV_C", "from-c", 1);
  CHECK(env("BKP_TEST_ENV_A").empty());
  CHECK(env("BKP_TEST_ENV_B").empty());
  CHECK(env("BKP_TEST_ENV_C") == "from-c");
  CHECK(configured_or_env("set", {"BKP_TEST_ENV_C"}) == "set");
  CHECK(configured_or_env("", {"BKP_TEST_ENV_A", "BKP_TEST_ENV_B", "BKP_TEST_ENV_C"}) == "from-c");
  CHECK(configured_or_env("", {"BKP_TEST_ENV_A", "BKP_TEST_ENV_B"}).empty());
  CHECK(configured_or_env("", {}).empty());
  ::unsetenv("BKP_TEST_ENV_B");
  ::unsetenv("BKP_TEST_ENV_C");
}
