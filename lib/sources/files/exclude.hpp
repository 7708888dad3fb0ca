// Exclude patterns for the files source, in the style of restic and rsync:
//
//   *.tmp          no '/': matches the name (last component) of any entry
//   /home/*/cache  leading '/': matches the whole absolute path, component by
//                  component ('*', '?' and '[..]' never cross a '/')
//   build/*.o      '/' inside: as if prefixed with "**/", i.e. matches the
//                  trailing components of the path at any depth
//   /var/**/log    "**" as a whole component matches any number of
//                  components, including none; a trailing "/**" matches
//                  everything below a directory but not the directory
//   cache/         trailing '/': directories only
//
// Components are matched with fnmatch(3) without flags, so '*' also matches
// a leading dot and '\' quotes the next character. An excluded directory is
// not descended into, so everything below it is excluded too.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "util/result.hpp"

namespace bkp::sources {

// What the caller knows about the entry being matched. Directory-only
// patterns match only PathKind::dir (not unknown: an entry whose lstat
// failed).
enum class PathKind { dir, non_dir, unknown };

class Excludes {
 public:
  Excludes() = default;  // excludes nothing
  // Fails with ErrorKind::usage on an empty pattern.
  static util::Result<Excludes> compile(const std::vector<std::string>& patterns);

  // `path` must be absolute and normalised (no "." or ".." components).
  bool matches(const std::filesystem::path& path, PathKind kind) const;
  bool empty() const { return patterns_.empty(); }

 private:
  struct Pattern {
    bool dir_only = false;
    bool basename = false;                // no '/': match the last component
    std::vector<std::string> components;  // else: "**" or an fnmatch glob each
  };
  std::vector<Pattern> patterns_;
};

// Reads patterns from a file: one per line, leading and trailing blanks
// (space, tab, CR) trimmed, blank lines and lines starting with '#' ignored.
util::Result<std::vector<std::string>> read_exclude_file(const std::filesystem::path& path);

}  // namespace bkp::sources
