#include "cli_helpers.hpp"

#include <cstdlib>
#include <stdexcept>

#include "util/fs.hpp"
#include "util/subprocess.hpp"

extern char** environ;

namespace bkp::test {

Cli::Cli() { env["HOME"] = home_.path().string(); }

namespace {

util::SpawnOptions spawn_options(const std::map<std::string, std::string>& env,
                                 const std::filesystem::path& home) {
  util::SpawnOptions opts;
  opts.env = env;
  opts.env.try_emplace("XDG_CONFIG_HOME", (home / ".config").string());
  opts.env.try_emplace("XDG_STATE_HOME", (home / ".state").string());
  opts.env.try_emplace("XDG_CACHE_HOME", (home / ".cache").string());
  for (char** e = environ; *e; ++e) {
    std::string entry(*e);
    auto name = entry.substr(0, entry.find('='));
    if (name.rfind("BKP_", 0) == 0 && name != "BKP_BINARY" && !env.count(name))
      opts.unset_env.push_back(name);
  }
  return opts;
}

std::vector<std::string> bkp_argv(const std::vector<std::string>& args) {
  const char* bin = std::getenv("BKP_BINARY");
  if (!bin) throw std::runtime_error("BKP_BINARY is not set");
  std::vector<std::string> argv{bin};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

}  // namespace

util::Child Cli::spawn(const std::vector<std::string>& args, util::SpawnOptions::Stdin in) const {
  auto opts = spawn_options(env, home_.path());
  opts.stdin_mode = in;
  opts.stdout_mode = util::SpawnOptions::Stdout::pipe;
  opts.stderr_mode = util::SpawnOptions::Stderr::pipe;
  auto child = util::Child::spawn(bkp_argv(args), opts);
  if (!child) throw std::runtime_error(child.error().message);
  return std::move(*child);
}

Run Cli::run(const std::vector<std::string>& args, const std::string& input) const {
  auto argv = bkp_argv(args);
  auto opts = spawn_options(env, home_.path());
  auto r = util::run_capture(argv, opts, input);
  if (!r) throw std::runtime_error(r.error().message);
  return Run{r->status, r->out, r->err};
}

std::filesystem::path source_root() {
  const char* root = std::getenv("BKP_SOURCE_ROOT");
  if (!root) throw std::runtime_error("BKP_SOURCE_ROOT is not set");
  return root;
}

std::string noise(std::size_t n, std::uint64_t seed) {
  std::string s(n, '\0');
  std::uint64_t x = 0x9e3779b97f4a7c15ull * (seed + 1);
  for (std::size_t i = 0; i < n; i += 8) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    for (std::size_t k = 0; k < 8 && i + k < n; ++k) s[i + k] = static_cast<char>(x >> (8 * k));
  }
  return s;
}

std::string read(const std::filesystem::path& p) {
  auto r = bkp::util::read_text_file(p);
  return r ? *r : "<unreadable: " + r.error().message + ">";
}

}  // namespace bkp::test
