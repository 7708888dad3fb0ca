// Include and exclude patterns of a restore, matched against snapshot paths
// ("/home/a/x"). A pattern selects the paths it matches and everything below
// them. Like the backup excludes (sources/files/exclude.hpp):
//   no '/'       matches the name of any entry at any depth ("*.log")
//   leading '/'  matches the whole path, '*' never crossing a '/'
//   '/' inside   matches the trailing components at any depth ("docs/*.txt")
// A trailing '/' is ignored.
#include <fnmatch.h>

#include "engine/restore.hpp"

namespace bkp::engine {

namespace {

bool glob_match(const std::string& pattern, const std::string& subject) {
  return ::fnmatch(pattern.c_str(), subject.c_str(), FNM_PATHNAME) == 0;
}

std::vector<std::string> components(const std::string& path) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while (at < path.size()) {
    auto slash = path.find('/', at);
    if (slash == std::string::npos) slash = path.size();
    if (slash > at) out.push_back(path.substr(at, slash - at));
    at = slash + 1;
  }
  return out;
}

struct Pattern {
  std::vector<std::string> parts;  // components, each an fnmatch glob
  bool anchored = false;           // leading '/': from the root
};

Pattern compile(const std::string& text) {
  return Pattern{components(text), !text.empty() && text.front() == '/'};
}

// Whether the first parts of `pattern` match `path` exactly, component by
// component (fnmatch with FNM_PATHNAME never lets a '*' cross a '/').
bool match_at(const std::vector<std::string>& pattern, const std::vector<std::string>& path,
              std::size_t start) {
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (!glob_match(pattern[i], path[start + i])) return false;
  }
  return true;
}

// True when `pattern` matches `path` or one of its ancestors.
bool matches_path_or_ancestor(const Pattern& pattern, const std::vector<std::string>& path) {
  const auto n = pattern.parts.size();
  if (n == 0) return pattern.anchored;  // "/" selects everything
  if (pattern.anchored) return path.size() >= n && match_at(pattern.parts, path, 0);
  // Unanchored: the pattern may end at any component of the path, and
  // matching there makes that ancestor (or the path) selected.
  for (std::size_t end = n; end <= path.size(); ++end) {
    if (match_at(pattern.parts, path, end - n)) return true;
  }
  return false;
}

bool any_matches(const std::vector<std::string>& patterns, const std::vector<std::string>& path) {
  for (auto& p : patterns) {
    if (matches_path_or_ancestor(compile(p), path)) return true;
  }
  return false;
}

}  // namespace

std::optional<OverwritePolicy> parse_overwrite(std::string_view s) {
  if (s == "never") return OverwritePolicy::never;
  if (s == "if-changed") return OverwritePolicy::if_changed;
  if (s == "always") return OverwritePolicy::always;
  return std::nullopt;
}

bool RestoreFilter::selects(const std::string& path) const {
  auto parts = components(path);
  if (any_matches(excludes, parts)) return false;
  return includes.empty() || any_matches(includes, parts);
}

bool RestoreFilter::may_contain(const std::string& dir) const {
  if (selects(dir)) return true;
  auto parts = components(dir);
  if (any_matches(excludes, parts)) return false;
  for (auto& raw : includes) {
    auto p = compile(raw);
    // An unanchored pattern may match below any directory; an anchored one
    // only below a directory that its leading components match.
    if (!p.anchored) return true;
    if (parts.size() < p.parts.size() &&
        match_at(std::vector<std::string>(p.parts.begin(), p.parts.begin() + parts.size()), parts,
                 0)) {
      return true;
    }
  }
  return false;
}

}  // namespace bkp::engine
