// Running a backup politely beside a database: the I/O scheduling class of
// every thread of this process (ioprio_set) and its CPU nice value.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string_view>

#include "util/result.hpp"

namespace bkp::util {

enum class IoClass {
  idle,         // served only when no other process wants the disk
  best_effort,  // the default class, at its lowest level (7)
};

std::optional<IoClass> parse_io_class(std::string_view text);  // "idle", "best-effort"

// Sets `cls` on every thread of this process (threads started later inherit
// it) and raises their nice value to 19. Honoured by the BFQ and CFQ
// schedulers; with "none" or "mq-deadline" the class changes nothing, which
// is why --limit-rate exists too.
Status lower_priority(IoClass cls);

struct IoPriority {
  int io_class = 0;  // IOPRIO_CLASS_*: 0 none, 1 realtime, 2 best-effort, 3 idle
  int level = 0;
};
// ioprio_get of one thread (or process) id.
Result<IoPriority> io_priority_of(pid_t tid);

}  // namespace bkp::util
