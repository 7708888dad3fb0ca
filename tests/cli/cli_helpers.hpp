// Runs the real bkp binary as a user would, in a clean environment: HOME
// points at a temporary directory and no BKP_* variable leaks in.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "test_tmpdir.hpp"

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
  std::map<std::string, std::string> env;  // added to every run
  const std::filesystem::path& home() const { return home_.path(); }

 private:
  TempDir home_;
};

std::filesystem::path source_root();

}  // namespace bkp::test
