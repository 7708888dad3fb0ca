#include "storage/local.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include "storage/temp_name.hpp"
#include "util/fs.hpp"
#include "util/text.hpp"
#include "util/unique_fd.hpp"

namespace bkp::storage {

namespace fs = std::filesystem;
using util::ErrorKind;
using util::fail;
using util::in_quotes;

using util::UniqueFd;

namespace {

constexpr mode_t file_mode = 0600;
constexpr mode_t dir_mode = 0700;
// Objects from this size on (packs) are written around the page cache.
constexpr std::size_t kBypassCacheBytes = std::size_t{1} << 20;
// Object names are short paths; a deeper tree means a symlink loop.
constexpr int max_list_depth = 256;

struct OpenObject {
  UniqueFd fd;
  std::uint64_t size;
};

util::Error no_such_object(std::string_view action, std::string_view name) {
  return util::make_error(ErrorKind::not_found,
                          std::string(action) + " " + in_quotes(name) + ": no such object");
}

// The object's path; `name` is valid, so it stays under the root.
fs::path object_path(const fs::path& root, std::string_view name) { return root / name; }

bool missing_errno(int err) { return err == ENOENT || err == ENOTDIR; }

util::Result<OpenObject> open_object(const fs::path& root, std::string_view name) {
  fs::path path = object_path(root, name);
  // O_NONBLOCK: a FIFO planted in the repository must not hang us.
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  if (fd.get() < 0) {
    int err = errno;
    if (missing_errno(err)) return fail(no_such_object("reading", name));
    return fail(util::errno_error("opening", path, err).context("reading " + in_quotes(name)));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return fail(util::errno_error("inspecting", path, errno).context("reading " + in_quotes(name)));
  }
  // A directory is where names with this prefix live, not an object.
  if (S_ISDIR(st.st_mode)) return fail(no_such_object("reading", name));
  if (!S_ISREG(st.st_mode)) {
    return fail(ErrorKind::io,
                "reading " + in_quotes(name) + ": '" + path.string() + "' is not a regular file");
  }
  return OpenObject{std::move(fd), static_cast<std::uint64_t>(st.st_size)};
}

// Fills `out` (already sized) from `offset`.
util::Status read_exact_into(int fd, std::string_view name, std::uint64_t offset,
                             util::Bytes& out) {
  std::size_t done = 0;
  while (done < out.size()) {
    ssize_t n =
        ::pread(fd, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(ErrorKind::io, "reading " + in_quotes(name) + ": " + std::strerror(errno));
    }
    if (n == 0) {
      return fail(ErrorKind::corrupt, "reading " + in_quotes(name) + ": short read: got " +
                                          std::to_string(done) + " of " +
                                          std::to_string(out.size()) + " bytes at offset " +
                                          std::to_string(offset));
    }
    done += static_cast<std::size_t>(n);
  }
  return {};
}

util::Result<util::Bytes> read_exact(int fd, std::string_view name, std::uint64_t offset,
                                     std::uint64_t length) {
  util::Bytes out(static_cast<std::size_t>(length));
  BKP_TRY(read_exact_into(fd, name, offset, out));
  return out;
}

// Creates the directories leading to `name`, each 0700. A new directory's
// entry is fsynced into its parent, or a crash could lose the object with it.
util::Status make_parent_dirs(const fs::path& root, std::string_view name) {
  std::size_t slash = name.rfind('/');
  fs::path parent = slash == std::string_view::npos ? root : root / name.substr(0, slash);
  struct stat st {};
  if (::stat(parent.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return {};

  if (::stat(root.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    BKP_TRY(util::make_dirs(root, dir_mode));
    BKP_TRY(util::fsync_dir(root.parent_path()));
  }
  if (slash == std::string_view::npos) return {};
  fs::path dir = root;
  std::string_view rest = name.substr(0, slash);
  while (!rest.empty()) {
    std::size_t next = rest.find('/');
    fs::path child = dir / rest.substr(0, next);
    if (::mkdir(child.c_str(), dir_mode) == 0) {
      BKP_TRY(util::fsync_dir(dir));
    } else if (errno != EEXIST) {
      return fail(util::errno_error("creating directory", child, errno));
    }
    dir = std::move(child);
    rest = next == std::string_view::npos ? std::string_view{} : rest.substr(next + 1);
  }
  return {};
}

struct ListContext {
  const fs::path& root;
  std::string_view prefix;
  const std::function<util::Status(const ObjectInfo&)>& fn;

  util::Error io_error(const std::string& action, const std::string& rel, int err) const {
    return util::errno_error(action, rel.empty() ? root : root / rel, err)
        .context("listing " + in_quotes(prefix));
  }
};

// Lists the directory `fd` (taken over), whose path relative to the root is
// `base` ("" or ending in '/'); only entries starting with `leaf` can match.
util::Status walk(const ListContext& ctx, UniqueFd fd, const std::string& base,
                  std::string_view leaf, int depth) {
  std::string rel = base.empty() ? std::string() : base.substr(0, base.size() - 1);
  if (depth > max_list_depth) {
    return fail(ErrorKind::io, "listing " + in_quotes(ctx.prefix) + ": directory '" +
                                   (ctx.root / rel).string() + "' is nested too deeply");
  }
  DIR* dir = ::fdopendir(fd.get());
  if (dir == nullptr) return fail(ctx.io_error("reading directory", rel, errno));
  fd.release();
  struct DirCloser {
    DIR* d;
    ~DirCloser() { ::closedir(d); }
  } closer{dir};
  int dfd = ::dirfd(dir);

  for (;;) {
    errno = 0;
    struct dirent* entry = ::readdir(dir);
    if (entry == nullptr) {
      if (errno != 0) return fail(ctx.io_error("reading directory", rel, errno));
      return {};
    }
    std::string_view entry_name = entry->d_name;
    if (entry_name == "." || entry_name == "..") continue;
    // Skipping before fstatat keeps a narrow prefix cheap in a wide directory.
    if (entry_name.substr(0, leaf.size()) != leaf) continue;
    struct stat st {};
    if (::fstatat(dfd, entry->d_name, &st, 0) != 0) {
      if (missing_errno(errno)) continue;  // removed while we list
      return fail(ctx.io_error("inspecting", base + std::string(entry_name), errno));
    }
    std::string name = base + std::string(entry_name);
    if (S_ISDIR(st.st_mode)) {
      UniqueFd child(::openat(dfd, entry->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
      if (child.get() < 0) {
        if (missing_errno(errno)) continue;
        return fail(ctx.io_error("opening directory", name, errno));
      }
      BKP_TRY(walk(ctx, std::move(child), name + "/", {}, depth + 1));
    } else if (S_ISREG(st.st_mode) && !is_temp_name(entry_name)) {
      BKP_TRY(ctx.fn(ObjectInfo{std::move(name), static_cast<std::uint64_t>(st.st_size)}));
    }
  }
}

}  // namespace

LocalBackend::LocalBackend(fs::path root) : root_(std::move(root)) {}

std::string LocalBackend::describe() const { return root_.string(); }

util::Status LocalBackend::put(std::string_view name, util::ByteView data, WriteMode mode) {
  BKP_TRY(check_object_name("storing", name));
  std::string what = "storing " + in_quotes(name);
  if (auto st = make_parent_dirs(root_, name); !st) return fail(st.error().context(what));
  auto overwrite =
      mode == WriteMode::create_only ? util::Overwrite::forbid : util::Overwrite::allow;
  // Packs (megabytes, written once, read by a restore or a check) bypass
  // the page cache; small objects (config, keys, index segments, snapshots)
  // are read back soon and stay in it.
  const auto cache =
      data.size() >= kBypassCacheBytes ? util::PageCache::bypass : util::PageCache::use;
  auto st = util::write_file_atomic(object_path(root_, name), data, file_mode, overwrite,
                                    util::Durable::yes, cache);
  if (!st) {
    if (st.error().kind == ErrorKind::exists) {
      return fail(ErrorKind::exists, what + ": object already exists");
    }
    return fail(st.error().context(what));
  }
  return {};
}

util::Result<util::Bytes> LocalBackend::get(std::string_view name) {
  BKP_TRY(check_object_name("reading", name));
  BKP_ASSIGN(OpenObject obj, open_object(root_, name));
  return read_exact(obj.fd.get(), name, 0, obj.size);
}

util::Status LocalBackend::get_into(std::string_view name, util::Bytes& out) {
  BKP_TRY(check_object_name("reading", name));
  BKP_ASSIGN(OpenObject obj, open_object(root_, name));
  out.resize(static_cast<std::size_t>(obj.size));
  return read_exact_into(obj.fd.get(), name, 0, out);
}

util::Result<util::Bytes> LocalBackend::get_range(std::string_view name, std::uint64_t offset,
                                                  std::uint64_t length) {
  BKP_TRY(check_object_name("reading", name));
  BKP_ASSIGN(OpenObject obj, open_object(root_, name));
  // Checked before allocating, so a bad length from a corrupt index cannot
  // ask for terabytes of memory.
  if (offset > obj.size || length > obj.size - offset) {
    return fail(ErrorKind::corrupt, "reading " + in_quotes(name) + ": short read: bytes " +
                                        std::to_string(offset) + "+" + std::to_string(length) +
                                        " requested, the object has " + std::to_string(obj.size));
  }
  return read_exact(obj.fd.get(), name, offset, length);
}

util::Result<ObjectInfo> LocalBackend::stat(std::string_view name) {
  BKP_TRY(check_object_name("inspecting", name));
  fs::path path = object_path(root_, name);
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    int err = errno;
    if (missing_errno(err)) return fail(no_such_object("inspecting", name));
    return fail(
        util::errno_error("inspecting", path, err).context("inspecting " + in_quotes(name)));
  }
  if (S_ISDIR(st.st_mode)) return fail(no_such_object("inspecting", name));
  if (!S_ISREG(st.st_mode)) {
    return fail(ErrorKind::io, "inspecting " + in_quotes(name) + ": '" + path.string() +
                                   "' is not a regular file");
  }
  return ObjectInfo{std::string(name), static_cast<std::uint64_t>(st.st_size)};
}

util::Status LocalBackend::list(std::string_view prefix,
                                const std::function<util::Status(const ObjectInfo&)>& fn) {
  ListContext ctx{root_, prefix, fn};
  // Start in the deepest directory the prefix names: "data/ab/c" lists only
  // entries of data/ab starting with "c", never the rest of the tree.
  std::size_t slash = prefix.rfind('/');
  std::string base;
  std::string_view leaf = prefix;
  if (slash != std::string_view::npos) {
    std::string_view dir_part = prefix.substr(0, slash);
    // No valid object name starts with "../", "/" or "a//": nothing matches.
    if (!valid_object_name(dir_part)) return {};
    base = std::string(dir_part) + "/";
    leaf = prefix.substr(slash + 1);
  }
  UniqueFd root_fd(::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (root_fd.get() < 0) {
    // A root that does not exist yet holds no objects, like an empty bucket.
    if (errno == ENOENT) return {};
    return fail(ctx.io_error("opening directory", "", errno));
  }
  if (base.empty()) return walk(ctx, std::move(root_fd), base, leaf, 0);
  std::string dir_rel = base.substr(0, base.size() - 1);
  UniqueFd start(::openat(root_fd.get(), dir_rel.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (start.get() < 0) {
    if (missing_errno(errno)) return {};
    return fail(ctx.io_error("opening directory", dir_rel, errno));
  }
  return walk(ctx, std::move(start), base, leaf, 1);
}

util::Status LocalBackend::remove(std::string_view name) {
  BKP_TRY(check_object_name("removing", name));
  fs::path path = object_path(root_, name);
  if (::unlink(path.c_str()) != 0) {
    int err = errno;
    // Nothing there (or only a directory of longer names): already removed.
    if (missing_errno(err) || err == EISDIR) return {};
    return fail(util::errno_error("removing", path, err).context("removing " + in_quotes(name)));
  }
  // Durable removal, so a crash cannot bring back an object the caller
  // already treats as gone (a released lock, for example).
  if (auto st = util::fsync_dir(path.parent_path()); !st) {
    return fail(st.error().context("removing " + in_quotes(name)));
  }
  return {};
}

}  // namespace bkp::storage
