#include <catch2/catch.hpp>

#include "util/subprocess.hpp"

using namespace bkp::util;

TEST_CASE("run_capture collects output, status and feeds stdin", "[subprocess]") {
  auto r = run_capture({"/bin/sh", "-c", "cat; echo err >&2; exit 3"}, {}, "hello");
  REQUIRE(r.ok());
  CHECK(r->out == "hello");
  CHECK(r->err == "err\n");
  CHECK(r->status == 3);
}

TEST_CASE("environment is passed without a shell", "[subprocess]") {
  SpawnOptions o;
  o.env["BKP_TEST_VALUE"] = "a b;$(x)";
  auto r = run_capture({"/usr/bin/env"}, o);
  REQUIRE(r.ok());
  CHECK(r->out.find("BKP_TEST_VALUE=a b;$(x)\n") != std::string::npos);
}

TEST_CASE("a missing program is an error, not a child", "[subprocess]") {
  auto r = run_capture({"/nonexistent/program"});
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("cannot run '/nonexistent/program'") != std::string::npos);
}

TEST_CASE("large output does not deadlock", "[subprocess]") {
  std::string big(1 << 20, 'x');
  auto r = run_capture({"/bin/cat"}, {}, big);
  REQUIRE(r.ok());
  CHECK(r->out.size() == big.size());
  CHECK(describe_status(137) == "killed by signal 9");
  CHECK(describe_status(2) == "exited with status 2");
}
