#include <catch2/catch.hpp>

#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "util/io_priority.hpp"
#include "util/rate_limit.hpp"

using namespace bkp::util;

TEST_CASE("a rate limiter holds the average rate", "[rate_limit]") {
  RateLimiter limit(4 << 20);  // 4 MiB/s, a bucket of 0.4 MiB
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 32; ++i) limit.consume(128 << 10);  // 4 MiB in all
  std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  // 4 MiB less the initial bucket at 4 MiB/s: 0.9 s; a loose upper bound
  // for a loaded machine.
  CHECK(took.count() >= 0.85);
  CHECK(took.count() < 3.0);
}

TEST_CASE("a rate limiter shares one budget among threads", "[rate_limit]") {
  RateLimiter limit(8 << 20);
  auto start = std::chrono::steady_clock::now();
  auto reader = [&] {
    for (int i = 0; i < 32; ++i) limit.consume(128 << 10);
  };
  std::thread a(reader), b(reader);
  a.join();
  b.join();
  std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  CHECK(took.count() >= 0.85);  // 8 MiB at 8 MiB/s, less the bucket
}

TEST_CASE("a small read within the bucket does not sleep", "[rate_limit]") {
  RateLimiter limit(1 << 20);
  auto start = std::chrono::steady_clock::now();
  limit.consume(64 << 10);
  std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  CHECK(took.count() < 0.05);
}

TEST_CASE("io classes parse", "[io_priority]") {
  CHECK(parse_io_class("idle") == IoClass::idle);
  CHECK(parse_io_class("best-effort") == IoClass::best_effort);
  CHECK_FALSE(parse_io_class("realtime").has_value());
  CHECK_FALSE(parse_io_class("").has_value());
}

TEST_CASE("lower_priority sets the class and nice of every thread", "[io_priority]") {
  // In a child process: the change cannot be undone without privilege, and
  // the other tests of this binary must keep their priority.
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    std::atomic<pid_t> other_tid{0};
    std::thread other([&] {
      other_tid = static_cast<pid_t>(::syscall(SYS_gettid));
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
    });
    while (other_tid == 0) std::this_thread::yield();
    int code = 0;
    if (!lower_priority(IoClass::idle)) code = 10;
    auto self = io_priority_of(static_cast<pid_t>(::syscall(SYS_gettid)));
    if (!self || self->io_class != 3) code = code ? code : 11;
    auto o = io_priority_of(other_tid);
    if (!o || o->io_class != 3) code = code ? code : 12;
    if (::getpriority(PRIO_PROCESS, static_cast<id_t>(other_tid.load())) != 19)
      code = code ? code : 13;
    if (::getpriority(PRIO_PROCESS, 0) != 19) code = code ? code : 14;
    if (!lower_priority(IoClass::best_effort)) code = code ? code : 15;
    auto be = io_priority_of(static_cast<pid_t>(::syscall(SYS_gettid)));
    if (!be || be->io_class != 2 || be->level != 7) code = code ? code : 16;
    other.join();
    ::_exit(code);
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}
