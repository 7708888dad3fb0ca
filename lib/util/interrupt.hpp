// Ctrl-C and `systemctl stop`: the first SIGINT, SIGTERM or SIGHUP asks the
// running command to stop at its next safe point (between chunks, files or
// packs), so it can mark its catalog rows, write its audit entry and exit
// 130 with nothing half-written; a second one stops the process at once,
// which is also safe (every write is atomic) but leaves less of a trace.
#pragma once

#include "util/result.hpp"

namespace bkp::util {

// Installs the handlers; the bkp binary calls it once at start-up.
void install_interrupt_handlers();

// True once a stop was asked for.
bool interrupt_requested();

// An `interrupted` error naming the signal once one arrived, else success.
// Cheap enough to call for every chunk.
Status check_interrupted();

// Forgets a request (tests raise signals at themselves).
void clear_interrupt_for_testing();

}  // namespace bkp::util
