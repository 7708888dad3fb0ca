// Who and where this process runs, as recorded in snapshots, key slots,
// prune marks and audit entries.
#pragma once

#include <string>

namespace bkp::util {

// gethostname(), or "unknown" when it fails.
std::string host_name();
// The effective user's name, or its uid as a number when it has none.
std::string user_name();

}  // namespace bkp::util
