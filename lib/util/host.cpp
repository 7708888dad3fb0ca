#include "util/host.hpp"

#include <pwd.h>
#include <unistd.h>

namespace bkp::util {

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

std::string user_name() {
  if (auto* pw = ::getpwuid(::geteuid())) return pw->pw_name;
  return std::to_string(::geteuid());
}

}  // namespace bkp::util
