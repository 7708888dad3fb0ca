#include "util/env.hpp"

#include <cstdlib>

namespace bkp::util {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : "";
}

std::string configured_or_env(const std::string& configured,
                              std::initializer_list<const char*> names) {
  if (!configured.empty()) return configured;
  for (const char* name : names) {
    if (std::string v = env(name); !v.empty()) return v;
  }
  return {};
}

}  // namespace bkp::util
