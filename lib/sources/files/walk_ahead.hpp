// walk() on a thread of its own, a bounded number of entries ahead of the
// visitor. The walk is system calls (lstat, listxattr, readdir) and the
// visitor of a backup is mostly user-space work (comparing with the parent
// snapshot, encoding trees, catalog lookups), so on two cores they overlap:
// an unchanged backup takes the longer of the two instead of their sum.
#pragma once

#include "sources/files/walker.hpp"

namespace bkp::sources {

// Same contract as walk(): the visitor sees the same calls in the same
// order, all on the calling thread. When the visitor fails, the walking
// thread stops at its next entry and that error is returned.
util::Status walk_ahead(const std::vector<std::filesystem::path>& roots, const WalkOptions& options,
                        WalkVisitor& visitor);

}  // namespace bkp::sources
