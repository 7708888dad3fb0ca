#include "tree_fixture.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <stdexcept>

#include "util/subprocess.hpp"

namespace bkp::test {

namespace {

void check(bool ok, const std::string& what) {
  if (!ok) throw std::runtime_error("building test tree: " + what);
}

struct timespec ts(std::int64_t ns) {
  struct timespec t {};
  t.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
  t.tv_nsec = static_cast<long>(ns % 1'000'000'000);
  return t;
}

}  // namespace

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  check(out.good(), "writing " + path.string());
}

void set_times(const fs::path& path, std::int64_t atime_ns, std::int64_t mtime_ns) {
  struct timespec t[2] = {ts(atime_ns), ts(mtime_ns)};
  check(::utimensat(AT_FDCWD, path.c_str(), t, AT_SYMLINK_NOFOLLOW) == 0, "times " + path.string());
}

Tree build_tree(const fs::path& root) {
  Tree t;
  t.root = root;
  check(::mkdir(root.c_str(), 0755) == 0, "mkdir root");
  ::chmod(root.c_str(), 0755);
  auto file = [&](const std::string& name, const std::string& content, mode_t mode) {
    write_text(root / name, content);
    check(::chmod((root / name).c_str(), mode) == 0, "chmod " + name);
  };
  file("file.txt", file_content, 0644);
  file("empty", "", 0600);
  file(newline_name, "newline", 0644);
  file(invalid_utf8_name, "invalid", 0644);
  file("with space", "space", 0644);
  file("setuid", "#!/bin/sh\n", 04755);
  file("xattr", "x", 0644);
  check(::lsetxattr((root / "xattr").c_str(), "user.test", xattr_value.data(), xattr_value.size(),
                    0) == 0,
        "setxattr");
  file("owned", "nobody's", 0640);
  check(::lchown((root / "owned").c_str(), 65534, 65534) == 0, "chown owned");
  file("unknown-owner", "?", 0644);
  check(::lchown((root / "unknown-owner").c_str(), 123456, 123457) == 0, "chown unknown");

  {  // 100 MiB with a few bytes in the middle
    int fd = ::open((root / "sparse").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    check(fd >= 0, "open sparse");
    check(::ftruncate(fd, static_cast<off_t>(sparse_size)) == 0, "ftruncate");
    check(::pwrite(fd, sparse_data.data(), sparse_data.size(),
                   static_cast<off_t>(sparse_data_at)) == static_cast<ssize_t>(sparse_data.size()),
          "pwrite");
    ::close(fd);
  }

  check(::symlink("file.txt", (root / "link").c_str()) == 0, "symlink");
  check(::symlink("does/not/exist", (root / "dangling").c_str()) == 0, "dangling");
  for (int i = 0; t.long_target.size() < 3900; ++i)
    t.long_target += "component" + std::to_string(i) + "/";
  check(::symlink(t.long_target.c_str(), (root / "longlink").c_str()) == 0, "longlink");

  file("hard1", "linked content", 0644);
  check(::link((root / "hard1").c_str(), (root / "hard2").c_str()) == 0, "link");
  check(::mkfifo((root / "fifo").c_str(), 0640) == 0, "mkfifo");
  if (::mknod((root / "null").c_str(), S_IFCHR | 0666, makedev(1, 3)) == 0) {
    t.has_device = true;
    ::chmod((root / "null").c_str(), 0666);
  } else {
    std::printf("BKP-SKIP: mknod of a character device failed, devices not tested\n");
  }

  check(::mkdir((root / "private").c_str(), 0750) == 0, "mkdir private");
  ::chmod((root / "private").c_str(), 0750);
  file("private/inner", "inner", 0600);

  // The child exists before the default ACL: a restore must not let it
  // inherit the ACL either.
  check(::mkdir((root / "acldir").c_str(), 0755) == 0, "mkdir acldir");
  ::chmod((root / "acldir").c_str(), 0755);
  file("acldir/child", "child", 0644);
  file("acl", "acl", 0644);
  if (::access("/usr/bin/setfacl", X_OK) == 0) {
    auto a = util::run_capture({"/usr/bin/setfacl", "-m", "u:nobody:r", (root / "acl").string()});
    auto d = util::run_capture(
        {"/usr/bin/setfacl", "-d", "-m", "u:nobody:rx", (root / "acldir").string()});
    t.has_acl = a.ok() && a->status == 0 && d.ok() && d->status == 0;
  }
  if (!t.has_acl) std::printf("BKP-SKIP: setfacl unavailable or failed, ACLs not tested\n");

  for (auto& e : fs::recursive_directory_iterator(root)) {
    if (e.symlink_status().type() != fs::file_type::directory) {
      set_times(e.path(), file_atime_ns, file_mtime_ns);
    }
  }
  for (auto d : {root / "private", root / "acldir", root}) set_times(d, dir_atime_ns, dir_mtime_ns);
  return t;
}

util::Status Recorder::enter_dir(const fs::path& path, const sources::Node& node) {
  events.push_back({Event::enter, path, node, {}});
  return {};
}
util::Status Recorder::leave_dir(const fs::path& path, const sources::Node& node) {
  events.push_back({Event::leave, path, node, {}});
  return {};
}
util::Status Recorder::entry(const fs::path& path, const sources::Node& node) {
  events.push_back({Event::entry, path, node, {}});
  if (on_entry) on_entry(path);
  return {};
}
void Recorder::skipped(const fs::path& path, const util::Error& error) {
  events.push_back({Event::skipped, path, {}, error.message});
}

std::vector<fs::path> Recorder::paths() const {
  std::vector<fs::path> out;
  for (const auto& e : events) {
    if (e.kind == Event::enter || e.kind == Event::entry) out.push_back(e.path);
  }
  return out;
}

const Event* Recorder::find(const fs::path& path) const {
  for (const auto& e : events) {
    if ((e.kind == Event::enter || e.kind == Event::entry) && e.path == path) return &e;
  }
  return nullptr;
}

std::uint64_t blocks_of(const fs::path& path) {
  struct stat st {};
  check(::lstat(path.c_str(), &st) == 0, "lstat " + path.string());
  return static_cast<std::uint64_t>(st.st_blocks);
}

bool same_content(const fs::path& a, const fs::path& b) {
  std::ifstream fa(a, std::ios::binary), fb(b, std::ios::binary);
  if (!fa || !fb) return false;
  std::vector<char> ba(1 << 20), bb(1 << 20);
  for (;;) {
    fa.read(ba.data(), static_cast<std::streamsize>(ba.size()));
    fb.read(bb.data(), static_cast<std::streamsize>(bb.size()));
    if (fa.gcount() != fb.gcount()) return false;
    if (!std::equal(ba.begin(), ba.begin() + fa.gcount(), bb.begin())) return false;
    if (fa.gcount() == 0) return true;
  }
}

}  // namespace bkp::test
