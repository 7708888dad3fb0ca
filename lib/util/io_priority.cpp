#include "util/io_priority.hpp"

#include <dirent.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>
#include <vector>

#include "util/fs.hpp"

namespace bkp::util {

namespace {

// From linux/ioprio.h, which glibc does not wrap.
constexpr int kWhoProcess = 1;
constexpr int kClassShift = 13;
constexpr int kClassBestEffort = 2;
constexpr int kClassIdle = 3;
constexpr int kLowestNice = 19;

std::vector<pid_t> thread_ids() {
  std::vector<pid_t> out;
  if (DIR* d = ::opendir("/proc/self/task")) {
    while (auto* e = ::readdir(d)) {
      if (e->d_name[0] >= '0' && e->d_name[0] <= '9') out.push_back(std::atoi(e->d_name));
    }
    ::closedir(d);
  }
  if (out.empty()) out.push_back(static_cast<pid_t>(::syscall(SYS_gettid)));
  return out;
}

}  // namespace

std::optional<IoClass> parse_io_class(std::string_view text) {
  if (text == "idle") return IoClass::idle;
  if (text == "best-effort") return IoClass::best_effort;
  return std::nullopt;
}

Status lower_priority(IoClass cls) {
  const int prio =
      cls == IoClass::idle ? (kClassIdle << kClassShift) : ((kClassBestEffort << kClassShift) | 7);
  for (pid_t tid : thread_ids()) {
    if (::syscall(SYS_ioprio_set, kWhoProcess, tid, prio) != 0) {
      // A thread that ended since the listing is no failure.
      if (errno == ESRCH) continue;
      return fail(
          errno_error("setting the I/O priority", "/proc/self/task/" + std::to_string(tid), errno));
    }
    // setpriority on a thread id changes that thread only (Linux); a higher
    // nice value needs no privilege.
    errno = 0;
    int now = ::getpriority(PRIO_PROCESS, static_cast<id_t>(tid));
    if (errno == 0 && now < kLowestNice)
      (void)::setpriority(PRIO_PROCESS, static_cast<id_t>(tid), kLowestNice);
  }
  return {};
}

Result<IoPriority> io_priority_of(pid_t tid) {
  long v = ::syscall(SYS_ioprio_get, kWhoProcess, tid);
  if (v < 0) return fail(errno_error("reading the I/O priority of", std::to_string(tid), errno));
  return IoPriority{int(v >> kClassShift), int(v & ((1 << kClassShift) - 1))};
}

}  // namespace bkp::util
