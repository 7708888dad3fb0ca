// Child processes, always without a shell: argv is passed as is, so nothing
// is ever re-parsed or glob-expanded, and secrets go in the environment.
#pragma once

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "util/result.hpp"

namespace bkp::util {

struct SpawnOptions {
  // Variables set (or overridden) on top of the parent's environment.
  std::map<std::string, std::string> env;
  std::vector<std::string> unset_env;
  std::optional<std::string> cwd;
  enum class Stdin { inherit, pipe, null } stdin_mode = Stdin::null;
  enum class Stdout { inherit, pipe, null } stdout_mode = Stdout::pipe;
  enum class Stderr { inherit, pipe, null } stderr_mode = Stderr::pipe;
};

// A running child. Pipes that were requested are open file descriptors the
// caller reads or writes; wait() reaps it.
class Child {
 public:
  Child() = default;
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  Child(Child&& o) noexcept;
  Child& operator=(Child&& o) noexcept;
  ~Child();

  static Result<Child> spawn(const std::vector<std::string>& argv, const SpawnOptions& opts);

  int stdin_fd() const { return in_; }
  int stdout_fd() const { return out_; }
  int stderr_fd() const { return err_; }
  void close_stdin();
  // Returns the exit status, or 128+signal when killed by a signal.
  Result<int> wait();
  pid_t pid() const { return pid_; }

 private:
  void close_all();
  pid_t pid_ = -1;
  int in_ = -1, out_ = -1, err_ = -1;
};

struct Completed {
  int status = -1;
  std::string out;
  std::string err;
};

// Runs to completion, feeding `input` on stdin and collecting both outputs.
Result<Completed> run_capture(const std::vector<std::string>& argv, const SpawnOptions& opts = {},
                              const std::string& input = {});

// Splits a command given as one string (a configuration value such as
// key_command) into argv, without a shell: words are separated by blanks;
// '...' keeps everything literally, "..." and a backslash escape the next
// character. Nothing is expanded. ErrorKind::usage for an unterminated
// quote or an empty command.
Result<std::vector<std::string>> split_command_line(std::string_view line);

// Describes an exit status for messages: "exited with status 2", "killed by signal 9".
std::string describe_status(int status);

}  // namespace bkp::util
