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

TEST_CASE("split_command_line splits words without a shell", "[subprocess]") {
  using V = std::vector<std::string>;
  auto ok = [](std::string_view line) {
    auto r = split_command_line(line);
    INFO(line);
    REQUIRE(r.ok());
    return *r;
  };
  CHECK(ok("vault kv get -field=key secret/bkp") ==
        V{"vault", "kv", "get", "-field=key", "secret/bkp"});
  CHECK(ok("  a\t b  \n") == V{"a", "b"});
  CHECK(ok("cat '/path with spaces/$HOME'") == V{"cat", "/path with spaces/$HOME"});
  CHECK(ok(R"(echo "a \"b\" c" d\ e)") == V{"echo", R"(a "b" c)", "d e"});
  CHECK(ok("x''y \"\"") == V{"xy", ""});
  CHECK(ok("a;b|c $(d)") == V{"a;b|c", "$(d)"});
  for (auto bad : {"", "   ", "echo 'open", "echo \"open"}) {
    auto r = split_command_line(bad);
    INFO(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::usage);
  }
}
