// config::Config::load of a bkp.toml: the input is written to a temporary
// file (Config reads files only) and loaded as an explicit config file.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "config/config.hpp"
#include "fuzz_util.hpp"

using namespace bkp;

namespace {

// Created once per process; the run-fuzz.sh wrapper points TMPDIR at a
// directory it removes afterwards, so a crash leaves nothing behind.
const std::string& temp_path() {
  // Never destroyed: the atexit handler below may run after static
  // destructors.
  static const std::string* path = [] {
    const char* dir = std::getenv("TMPDIR");
    auto* p = new std::string(std::string(dir && *dir ? dir : "/tmp") + "/bkp-fuzz-XXXXXX.toml");
    int fd = ::mkstemps(p->data(), 5);
    if (fd < 0) fuzz::fail_invariant("cannot create a temporary file");
    ::close(fd);
    std::atexit([] { ::unlink(temp_path().c_str()); });
    return p;
  }();
  return *path;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // The environment takes part in Config::load: keep it out of the picture.
  for (auto& k : config::all_keys()) {
    if (!k.env.empty()) ::unsetenv(std::string(k.env).c_str());
    if (!k.alias_env.empty()) ::unsetenv(std::string(k.alias_env).c_str());
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string& path = temp_path();
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) fuzz::fail_invariant("cannot write the temporary file");
  if (size && std::fwrite(data, 1, size, f) != size) fuzz::fail_invariant("short write");
  std::fclose(f);

  auto c = config::Config::load(std::filesystem::path(path));
  fuzz::check_error(c, "Config::load");
  if (!c) return 0;
  // Every value read is one of the known keys, and lists split cleanly.
  for (auto& [key, value] : c->values()) {
    fuzz::check(config::find_key(key) != nullptr, "a loaded key is a known key");
    (void)c->get_list(key);
    (void)c->get_bool(key);
  }
  return 0;
}
