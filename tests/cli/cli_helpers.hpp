// Runs the real bkp binary as a user would, in a clean environment: HOME
// points at a temporary directory and no BKP_* variable leaks in.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "test_tmpdir.hpp"
#include "util/subprocess.hpp"

namespace bkp::test {

struct Run {
  int status = -1;
  std::string out;
  std::string err;
};

class Cli {
 public:
  Cli();
  Run run(const std::vector<std::string>& args, const std::string& input = {}) const;
  // Starts bkp with the same environment as run() without waiting (for
  // tests that kill it); stdout and stderr are pipes.
  util::Child spawn(const std::vector<std::string>& args,
                    util::SpawnOptions::Stdin in = util::SpawnOptions::Stdin::null) const;
  std::map<std::string, std::string> env;  // added to every run
  const std::filesystem::path& home() const { return home_.path(); }

 private:
  TempDir home_;
};

std::filesystem::path source_root();

// Incompressible bytes; a different seed gives content that never dedups.
std::string noise(std::size_t n, std::uint64_t seed);
// A file's content, or a note saying why it could not be read.
std::string read(const std::filesystem::path& p);

}  // namespace bkp::test
