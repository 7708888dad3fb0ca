// stat_path and the metadata it reads: xattrs, names, types.
#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/xattr.h>

#include <cstdio>
#include <cstring>

#include "sources/files/walker.hpp"
#include "test_tmpdir.hpp"
#include "tree_fixture.hpp"

using namespace bkp;
using namespace bkp::sources;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> xattr_names(const Node& n) {
  std::vector<std::string> out;
  for (const auto& x : n.xattrs) out.push_back(x.name);
  return out;
}

}  // namespace

TEST_CASE("xattrs of several namespaces come back sorted by name", "[walker]") {
  test::TempDir tmp;
  auto p = tmp.path() / "f";
  test::write_text(p, "");
  for (const char* name : {"user.zeta", "trusted.mid", "user.alpha", "security.bkp"}) {
    REQUIRE(::lsetxattr(p.c_str(), name, "v", 1, 0) == 0);
  }
  std::string big(3000, 'b');  // larger than any first guess of a buffer
  REQUIRE(::lsetxattr(p.c_str(), "user.big", big.data(), big.size(), 0) == 0);
  auto n = stat_path(p);
  REQUIRE(n.ok());
  CHECK(xattr_names(*n) == std::vector<std::string>{"security.bkp", "trusted.mid", "user.alpha",
                                                    "user.big", "user.zeta"});
  CHECK(n->xattrs[3].value == util::to_bytes(big));
}

TEST_CASE("stat_path of / has an empty name; missing paths are not_found", "[walker]") {
  auto root = stat_path("/");
  REQUIRE(root.ok());
  CHECK(root->name.empty());
  CHECK(root->type == NodeType::dir);
  auto missing = stat_path("/nonexistent/bkp-test");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().kind == util::ErrorKind::not_found);
  CHECK(missing.error().message.find("'/nonexistent/bkp-test'") != std::string::npos);
  // /proc links report st_size 0: the target is read whatever its length.
  auto self = stat_path("/proc/self/cwd");
  REQUIRE(self.ok());
  CHECK(self->link_target == fs::current_path().string());
}

TEST_CASE("node type names", "[walker]") {
  CHECK(std::string(type_name(NodeType::file)) == "file");
  CHECK(std::string(type_name(NodeType::dir)) == "dir");
  CHECK(std::string(type_name(NodeType::symlink)) == "symlink");
  CHECK(std::string(type_name(NodeType::chardev)) == "chardev");
  CHECK(std::string(type_name(NodeType::blockdev)) == "blockdev");
  CHECK(std::string(type_name(NodeType::fifo)) == "fifo");
  CHECK(std::string(type_name(NodeType::socket)) == "socket");
  CHECK(std::string(type_name(static_cast<NodeType>(42))) == "unknown");
}

TEST_CASE("sockets and block devices", "[walker]") {
  test::TempDir tmp;
  auto sock_path = tmp.path() / "sock";
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  struct sockaddr_un addr {};
  addr.sun_family = AF_UNIX;
  REQUIRE(sock_path.native().size() < sizeof addr.sun_path);
  std::memcpy(addr.sun_path, sock_path.c_str(), sock_path.native().size() + 1);
  REQUIRE(::bind(fd, reinterpret_cast<struct sockaddr*>(&addr), sizeof addr) == 0);
  ::close(fd);
  auto s = stat_path(sock_path);
  REQUIRE(s.ok());
  CHECK(s->type == NodeType::socket);
  CHECK(s->rdev == 0);

  auto blk = tmp.path() / "loop";
  if (::mknod(blk.c_str(), S_IFBLK | 0600, makedev(7, 200)) != 0) {
    std::printf("BKP-SKIP: mknod of a block device failed\n");
    return;
  }
  auto b = stat_path(blk);
  REQUIRE(b.ok());
  CHECK(b->type == NodeType::blockdev);
  CHECK(b->rdev == makedev(7, 200));
  CHECK(b->size == 0);
}
