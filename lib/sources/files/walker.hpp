// Walks file trees for a backup: lstat, xattrs and ACLs, excludes, one
// file system; never follows symlinks. The engine receives entries in
// depth-first order, a directory's children sorted by name between
// enter_dir and leave_dir, so it can build trees bottom-up with bounded memory.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "sources/files/node.hpp"
#include "util/result.hpp"

namespace bkp::sources {

enum class FileSystems { cross, one };

struct WalkOptions {
  std::vector<std::string> excludes;  // globs (see exclude.hpp)
  FileSystems file_systems = FileSystems::cross;
};

class WalkVisitor {
 public:
  virtual ~WalkVisitor() = default;
  // `path` is absolute. Returning an error aborts the walk.
  virtual util::Status enter_dir(const std::filesystem::path& path, const Node& node) = 0;
  virtual util::Status leave_dir(const std::filesystem::path& path, const Node& node) = 0;
  // Any non-directory entry. For regular files the engine opens and reads
  // the file itself (see open_for_backup in reader.hpp).
  virtual util::Status entry(const std::filesystem::path& path, const Node& node) = 0;
  // An entry that could not be read (lstat, opendir or xattrs failed): it is
  // skipped, the walk goes on, and the backup must end as partial.
  virtual void skipped(const std::filesystem::path& path, const util::Error& error) = 0;
};

// Walks each root in turn. Roots must exist (ErrorKind::not_found otherwise)
// and are made absolute and normalised. The parents of each root are NOT
// visited; the engine records their metadata with stat_path().
util::Status walk(const std::vector<std::filesystem::path>& roots, const WalkOptions& options,
                  WalkVisitor& visitor);

// Metadata of one path (lstat + xattrs + names), as the walker reports it.
util::Result<Node> stat_path(const std::filesystem::path& path);

}  // namespace bkp::sources
