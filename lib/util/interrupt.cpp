#include "util/interrupt.hpp"

#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstring>
#include <string>

namespace bkp::util {

namespace {

std::atomic<int> requested_signal{0};
static_assert(std::atomic<int>::is_always_lock_free, "the handler must not take a lock");

void on_signal(int sig) {
  int expected = 0;
  if (!requested_signal.compare_exchange_strong(expected, sig)) {
    // The second request: the user means it. Die of the signal itself so the
    // parent (a shell, systemd) sees the usual status.
    std::signal(sig, SIG_DFL);
    std::raise(sig);
    return;
  }
  // write(2) is async-signal-safe; iostreams are not.
  static const char msg[] =
      "bkp: stopping at the next safe point (interrupt again to stop at once)\n";
  ssize_t ignored = ::write(STDERR_FILENO, msg, sizeof msg - 1);
  (void)ignored;
}

}  // namespace

void install_interrupt_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  // Restart system calls: the request is seen at the next check, and no read
  // or write anywhere (libcurl, SQLite, our own) has to cope with EINTR.
  sa.sa_flags = SA_RESTART;
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaction(sig, &sa, nullptr);
}

bool interrupt_requested() { return requested_signal.load(std::memory_order_relaxed) != 0; }

Status check_interrupted() {
  int sig = requested_signal.load(std::memory_order_relaxed);
  if (sig == 0) return {};
  const char* name = sigabbrev_np(sig);
  return fail(ErrorKind::interrupted,
              std::string("interrupted by SIG") + (name ? name : std::to_string(sig).c_str()));
}

void clear_interrupt_for_testing() { requested_signal.store(0); }

}  // namespace bkp::util
