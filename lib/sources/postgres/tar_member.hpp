// The members of the tar archives a BASE_BACKUP streams, as the entries a
// file walk would have handed to the engine: the same metadata (type, mode,
// owner, mtime, size, symlink target), so a base backup taken over the
// replication protocol is stored like one read from the data directory.
#pragma once

#include <string>
#include <string_view>

#include "sources/files/node.hpp"
#include "util/result.hpp"

struct archive_entry;

namespace bkp::sources::postgres {

// A member's path relative to its archive's root, normalised: "./" and a
// trailing "/" dropped. Absolute paths, "..", "." and empty components are
// refused (ErrorKind::corrupt): a stream naming them is not PostgreSQL's.
util::Result<std::string> tar_member_path(std::string_view name);

// The entry's metadata as a Node named `name` (its last path component).
// Tar has no ctime, inode or device: ctime is the mtime, the others 0.
// Hard links, devices and FIFOs are refused: a data directory has none.
util::Result<Node> tar_member_node(archive_entry* entry, const std::string& name);

}  // namespace bkp::sources::postgres
