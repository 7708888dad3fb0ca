// Local-directory backend: one file per object under the root directory.
// Writes go to a temporary file, are fsynced, renamed (or linked, for
// create-only), and the directory is fsynced. Files are 0600, dirs 0700.
// A crash mid-write leaves only "<name>.tmp-XXXXXXXXXXXX", which is never
// listed or served. Unlike a bucket, a directory cannot hold both "a" and
// "a/b"; repository names never need that.
#pragma once

#include <filesystem>

#include "storage/backend.hpp"

namespace bkp::storage {

class LocalBackend final : public Backend {
 public:
  explicit LocalBackend(std::filesystem::path root);

  std::string describe() const override;
  std::string_view kind() const override { return "local"; }
  util::Status put(std::string_view name, util::ByteView data, WriteMode mode) override;
  util::Result<util::Bytes> get(std::string_view name) override;
  util::Status get_into(std::string_view name, util::Bytes& out) override;
  util::Result<util::Bytes> get_range(std::string_view name, std::uint64_t offset,
                                      std::uint64_t length) override;
  util::Result<ObjectInfo> stat(std::string_view name) override;
  util::Status list(std::string_view prefix,
                    const std::function<util::Status(const ObjectInfo&)>& fn) override;
  util::Status remove(std::string_view name) override;

  const std::filesystem::path& root() const { return root_; }

 private:
  std::filesystem::path root_;
};

}  // namespace bkp::storage
