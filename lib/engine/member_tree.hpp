// An EntrySource over entries that arrive in any order: the members of the
// tar archives of a base backup taken over the replication protocol, whose
// contents are stored as they stream by. Only metadata and chunk ids are
// kept (memory grows with the number of files, not their size); once all
// arrived, backup_files walks them in the order a file walk would give.
#pragma once

#include <map>

#include "engine/backup.hpp"

namespace bkp::engine {

class MemberTree final : public EntrySource {
 public:
  MemberTree();

  // Adds the entry `path` (absolute). Directories above it that no entry
  // named yet get `node`'s owner, its mtime and mode 0700 (0755 above a
  // root, see add_root) until an entry names them. A path given twice is
  // an error (ErrorKind::corrupt), except a directory given again.
  util::Status add(const std::filesystem::path& path, sources::Node node,
                   StoredContent content = {});
  // Declares `root` (absolute) a root of the backup: the directories above
  // it are 0755 and owned by root unless named, as on a database host.
  util::Status add_root(const std::filesystem::path& root, const sources::Node& meta);
  bool contains(const std::filesystem::path& path) const;

  util::Result<sources::Node> parent_dir(const std::filesystem::path& dir) override;
  util::Status walk(const std::filesystem::path& root, sources::WalkVisitor& visitor) override;
  util::Result<StoredContent> content(const std::filesystem::path& path) override;

 private:
  struct Entry {
    sources::Node meta;
    StoredContent content;
    std::map<std::string, Entry> children;  // sorted by name, as a walk gives them
    bool named = false;                     // given by an entry, not made up
  };
  Entry* lookup(const std::filesystem::path& path);
  const Entry* lookup(const std::filesystem::path& path) const;
  util::Status visit(const std::filesystem::path& path, Entry& e, sources::WalkVisitor& visitor);

  Entry top_;  // "/"
  Entry* current_ = nullptr;
  std::filesystem::path current_path_;
};

}  // namespace bkp::engine
