#include <fnmatch.h>

#include "engine/restore.hpp"

namespace bkp::engine {

namespace {

bool glob_match(const std::string& pattern, const std::string& path) {
  return ::fnmatch(pattern.c_str(), path.c_str(), FNM_PATHNAME) == 0;
}

// True when `pattern` matches `path` or one of its ancestors; patterns
// without '/' match any single component, as in backup excludes.
bool matches_path_or_ancestor(const std::string& pattern, const std::string& path) {
  bool by_name = pattern.find('/') == std::string::npos;
  std::string p = path;
  while (!p.empty()) {
    auto slash = p.rfind('/');
    std::string subject = by_name ? p.substr(slash + 1) : p;
    if (glob_match(pattern, subject)) return true;
    if (slash == std::string::npos || slash == 0) break;
    p.resize(slash);
  }
  return false;
}

std::string strip_trailing_slash(std::string s) {
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

}  // namespace

std::optional<OverwritePolicy> parse_overwrite(std::string_view s) {
  if (s == "never") return OverwritePolicy::never;
  if (s == "if-changed") return OverwritePolicy::if_changed;
  if (s == "always") return OverwritePolicy::always;
  return std::nullopt;
}

bool RestoreFilter::selects(const std::string& path) const {
  for (auto& e : excludes) {
    if (matches_path_or_ancestor(strip_trailing_slash(e), path)) return false;
  }
  if (includes.empty()) return true;
  for (auto& i : includes) {
    if (matches_path_or_ancestor(strip_trailing_slash(i), path)) return true;
  }
  return false;
}

bool RestoreFilter::may_contain(const std::string& dir) const {
  if (selects(dir)) return true;
  for (auto& e : excludes) {
    if (matches_path_or_ancestor(strip_trailing_slash(e), dir)) return false;
  }
  for (auto& raw : includes) {
    auto i = strip_trailing_slash(raw);
    bool has_glob = i.find_first_of("*?[") != std::string::npos;
    // A pattern with wildcards may match below any directory; a literal
    // path only below its own ancestors.
    if (has_glob || i.find('/') == std::string::npos || i.rfind(dir + "/", 0) == 0) return true;
  }
  return false;
}

}  // namespace bkp::engine
