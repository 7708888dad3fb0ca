// A helper server for the storage tests: a Python script from tests/servers
// started on a free loopback port, whose first stdout line (JSON) says where
// it listens; stopped by its PID (SIGTERM) when the object goes away.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "util/subprocess.hpp"

namespace bkp::test {

class ScriptServer {
 public:
  // nullopt, with `why` set, when python3 or a module the script needs is
  // missing (the caller prints BKP-SKIP); a script that starts and then fails
  // is a test failure.
  static std::optional<ScriptServer> start(const std::string& script,
                                           const std::vector<std::string>& args,
                                           const std::vector<std::string>& modules,
                                           std::string& why);
  ScriptServer(ScriptServer&&) = default;
  ~ScriptServer();

  const nlohmann::json& info() const { return info_; }

 private:
  ScriptServer() = default;
  util::Child child_;
  nlohmann::json info_;
};

}  // namespace bkp::test
