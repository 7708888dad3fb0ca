// Small file-system helpers with the durability rules of the repository:
// a file is written under a temporary name, fsynced, renamed, and its
// directory fsynced, so a crash leaves either the old state or the new one.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>

#include "util/bytes.hpp"
#include "util/result.hpp"

namespace bkp::util {

enum class Overwrite { allow, forbid };
// Durable::no skips the fsyncs: still all or nothing for readers, but a
// crash may lose the file (for caches, which can be refilled).
enum class Durable { yes, no };
// PageCache::bypass writes with O_DIRECT where the file system takes it, and
// through the page cache where it does not: for large files written once
// and read rarely (packs), which would otherwise evict the machine's working
// set and cost a page-cache allocation and copy of every byte.
enum class PageCache { use, bypass };

// Atomically writes `data` to `path` with the given mode. With
// Overwrite::forbid an existing file is an ErrorKind::exists error.
Status write_file_atomic(const std::filesystem::path& path, ByteView data, mode_t mode = 0600,
                         Overwrite overwrite = Overwrite::allow, Durable durable = Durable::yes,
                         PageCache cache = PageCache::use);
Result<Bytes> read_file(const std::filesystem::path& path);
Result<std::string> read_text_file(const std::filesystem::path& path);
Status fsync_dir(const std::filesystem::path& dir);
// Creates a directory and its parents with `mode` for the ones it creates.
Status make_dirs(const std::filesystem::path& dir, mode_t mode = 0700);
// Turns an errno into an Error naming the path, e.g. "reading 'x': No such file".
Error errno_error(const std::string& action, const std::filesystem::path& path, int err);

}  // namespace bkp::util
