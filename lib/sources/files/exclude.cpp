#include "sources/files/exclude.hpp"

#include <fnmatch.h>

#include <string_view>

#include "util/fs.hpp"

namespace bkp::sources {

namespace fs = std::filesystem;
using util::Result;

namespace {

std::vector<std::string> split_components(std::string_view s) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t end = s.find('/', pos);
    if (end == std::string_view::npos) end = s.size();
    if (end > pos) out.emplace_back(s.substr(pos, end - pos));
    pos = end + 1;
  }
  return out;
}

bool glob_match(const std::string& pattern, const std::string& name) {
  return ::fnmatch(pattern.c_str(), name.c_str(), 0) == 0;
}

// Matches pattern components against path components, "**" standing for
// any run of components. Memoised over (pattern index, path index) so that
// several "**" stay O(P*S) instead of exponential.
class ComponentMatcher {
 public:
  ComponentMatcher(const std::vector<std::string>& pat, const std::vector<std::string>& path)
      : pat_(pat), path_(path), memo_((pat.size() + 1) * (path.size() + 1), -1) {}

  bool match(size_t pi, size_t si) {
    signed char& m = memo_[pi * (path_.size() + 1) + si];
    if (m < 0) m = compute(pi, si) ? 1 : 0;
    return m == 1;
  }

 private:
  bool compute(size_t pi, size_t si) {
    if (pi == pat_.size()) return si == path_.size();
    if (pat_[pi] == "**") {
      // A trailing "**" means "everything inside": at least one component,
      // so "/data/**" keeps /data itself (as in gitignore).
      if (pi + 1 == pat_.size()) return si < path_.size();
      return match(pi + 1, si) || (si < path_.size() && match(pi, si + 1));
    }
    return si < path_.size() && glob_match(pat_[pi], path_[si]) && match(pi + 1, si + 1);
  }

  const std::vector<std::string>& pat_;
  const std::vector<std::string>& path_;
  std::vector<signed char> memo_;
};

std::string_view trim(std::string_view s) {
  constexpr std::string_view blanks = " \t\r";
  size_t b = s.find_first_not_of(blanks);
  if (b == std::string_view::npos) return {};
  size_t e = s.find_last_not_of(blanks);
  return s.substr(b, e - b + 1);
}

}  // namespace

Result<Excludes> Excludes::compile(const std::vector<std::string>& patterns) {
  Excludes ex;
  for (const auto& text : patterns) {
    Pattern p;
    std::string_view body = text;
    while (body.size() > 1 && body.back() == '/') {
      p.dir_only = true;
      body.remove_suffix(1);
    }
    if (body.empty() || body == "/") {
      return util::fail(util::ErrorKind::usage,
                        "compiling exclude pattern '" + text + "': it would exclude everything");
    }
    if (body.find('/') == std::string_view::npos) {
      p.basename = true;
      p.components.emplace_back(body);
    } else {
      if (body.front() != '/') p.components.emplace_back("**");
      for (auto& c : split_components(body)) p.components.push_back(std::move(c));
    }
    ex.patterns_.push_back(std::move(p));
  }
  return ex;
}

bool Excludes::matches(const fs::path& path, PathKind kind) const {
  if (patterns_.empty()) return false;
  const std::string name = path.filename().string();
  std::vector<std::string> components;  // split lazily: most patterns are basenames
  bool split = false;
  for (const auto& p : patterns_) {
    if (p.dir_only && kind != PathKind::dir) continue;
    if (p.basename) {
      if (glob_match(p.components.front(), name)) return true;
      continue;
    }
    if (!split) {
      components = split_components(path.native());
      split = true;
    }
    if (ComponentMatcher(p.components, components).match(0, 0)) return true;
  }
  return false;
}

Result<std::vector<std::string>> read_exclude_file(const fs::path& path) {
  BKP_ASSIGN(auto text, util::read_text_file(path));
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    auto line = trim(std::string_view(text).substr(pos, end - pos));
    pos = end + 1;
    if (line.empty() || line.front() == '#') continue;
    out.emplace_back(line);
  }
  return out;
}

}  // namespace bkp::sources
