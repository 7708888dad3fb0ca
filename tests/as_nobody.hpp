// Running part of a test as an unprivileged user: the tests run as root,
// so what a user meets (unreadable files, ownership it cannot restore) is
// tried in a forked child that drops to nobody.
#pragma once

#include <catch2/catch.hpp>

#include <grp.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>
#include <string>

// In a coverage build, the child writes its counters before _exit.
extern "C" void __gcov_dump(void) __attribute__((weak));

namespace bkp::test {

inline constexpr uid_t nobody = 65534;

// Runs `fn` as nobody in a child process; returns what it reports ("" for
// success, otherwise what went wrong). Catch's assertions do not work in
// the child: `fn` reports with EXPECT.
inline std::string as_nobody(const std::function<std::string()>& fn) {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(fds[0]);
    std::string msg;
    if (::setgroups(0, nullptr) != 0 || ::setgid(nobody) != 0 || ::setuid(nobody) != 0) {
      msg = "cannot drop privileges";
    } else {
      msg = fn();
    }
    ssize_t n = ::write(fds[1], msg.data(), msg.size());
    if (__gcov_dump) __gcov_dump();
    ::_exit(n == static_cast<ssize_t>(msg.size()) ? 0 : 1);
  }
  ::close(fds[1]);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fds[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) out += " (child failed)";
  return out;
}

}  // namespace bkp::test

// Inside as_nobody's function: returns a message naming the line when
// `cond` is false.
#define EXPECT(cond)                                                     \
  do {                                                                   \
    if (!(cond)) return "line " + std::to_string(__LINE__) + ": " #cond; \
  } while (0)
