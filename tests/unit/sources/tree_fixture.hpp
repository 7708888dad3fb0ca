// A file tree with every kind of entry and metadata the files source
// handles, and a visitor that records what the walker reports.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "sources/files/node.hpp"
#include "sources/files/walker.hpp"
#include "util/bytes.hpp"

namespace bkp::test {

namespace fs = std::filesystem;

inline constexpr std::int64_t file_mtime_ns = 1'600'000'000'123'456'789;
inline constexpr std::int64_t file_atime_ns = 1'500'000'000'987'654'321;
inline constexpr std::int64_t dir_mtime_ns = 1'650'000'000'000'000'001;
inline constexpr std::int64_t dir_atime_ns = 1'700'000'000'999'999'999;
inline constexpr std::uint64_t sparse_size = 100ull << 20;
inline constexpr std::uint64_t sparse_data_at = 50ull << 20;
inline const std::string sparse_data = "in the middle";
inline const std::string newline_name = "new\nline";
inline const std::string invalid_utf8_name = "\xff\xfe";
inline const std::string file_content = "hello, world\n";
inline const util::Bytes xattr_value = {0x00, 0x01, 'b', 'i', 'n', 0x00, 0xff};

struct Tree {
  fs::path root;
  bool has_device = false;  // mknod c 1 3 worked
  bool has_acl = false;     // setfacl worked
  std::string long_target;  // of "longlink"
};

// Builds the tree at `root` (which must not exist). Every entry gets
// file_mtime_ns/file_atime_ns, every directory dir_mtime_ns/dir_atime_ns.
Tree build_tree(const fs::path& root);

void write_text(const fs::path& path, const std::string& text);
void set_times(const fs::path& path, std::int64_t atime_ns, std::int64_t mtime_ns);

struct Event {
  enum Kind { enter, leave, entry, skipped } kind;
  fs::path path;
  sources::Node node;
  std::string error;
};

class Recorder : public sources::WalkVisitor {
 public:
  util::Status enter_dir(const fs::path& path, const sources::Node& node) override;
  util::Status leave_dir(const fs::path& path, const sources::Node& node) override;
  util::Status entry(const fs::path& path, const sources::Node& node) override;
  void skipped(const fs::path& path, const util::Error& error) override;

  // Paths of entry/enter events, in order.
  std::vector<fs::path> paths() const;
  const Event* find(const fs::path& path) const;

  std::vector<Event> events;
  std::function<void(const fs::path&)> on_entry;  // runs in entry()
};

std::uint64_t blocks_of(const fs::path& path);  // st_blocks
bool same_content(const fs::path& a, const fs::path& b);

}  // namespace bkp::test
