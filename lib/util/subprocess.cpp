#include "util/subprocess.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

extern char** environ;

namespace bkp::util {

namespace {

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

Error sys_error(const std::string& what) {
  return make_error(ErrorKind::io, what + ": " + std::strerror(errno));
}

}  // namespace

Child::Child(Child&& o) noexcept
    : pid_(std::exchange(o.pid_, -1)),
      in_(std::exchange(o.in_, -1)),
      out_(std::exchange(o.out_, -1)),
      err_(std::exchange(o.err_, -1)) {}

Child& Child::operator=(Child&& o) noexcept {
  if (this != &o) {
    close_all();
    if (pid_ > 0) (void)wait();
    pid_ = std::exchange(o.pid_, -1);
    in_ = std::exchange(o.in_, -1);
    out_ = std::exchange(o.out_, -1);
    err_ = std::exchange(o.err_, -1);
  }
  return *this;
}

Child::~Child() {
  close_all();
  if (pid_ > 0) (void)wait();
}

void Child::close_all() {
  close_fd(in_);
  close_fd(out_);
  close_fd(err_);
}

void Child::close_stdin() { close_fd(in_); }

Result<Child> Child::spawn(const std::vector<std::string>& argv, const SpawnOptions& opts) {
  if (argv.empty()) return fail(ErrorKind::usage, "empty command");
  int in_pipe[2] = {-1, -1}, out_pipe[2] = {-1, -1}, err_pipe[2] = {-1, -1}, exec_pipe[2];
  auto make_pipe = [](int p[2]) { return ::pipe2(p, O_CLOEXEC) == 0; };
  if ((opts.stdin_mode == SpawnOptions::Stdin::pipe && !make_pipe(in_pipe)) ||
      (opts.stdout_mode == SpawnOptions::Stdout::pipe && !make_pipe(out_pipe)) ||
      (opts.stderr_mode == SpawnOptions::Stderr::pipe && !make_pipe(err_pipe)) ||
      !make_pipe(exec_pipe)) {
    return fail(sys_error("creating a pipe"));
  }

  // Build argv/envp before fork: only async-signal-safe calls after it.
  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e) {
    std::string_view entry(*e);
    auto name = entry.substr(0, entry.find('='));
    bool drop = opts.env.count(std::string(name)) > 0;
    for (auto& u : opts.unset_env) drop = drop || u == name;
    if (!drop) env_strings.emplace_back(entry);
  }
  for (auto& [k, v] : opts.env) env_strings.push_back(k + "=" + v);
  std::vector<char*> cenv;
  for (auto& s : env_strings) cenv.push_back(s.data());
  cenv.push_back(nullptr);

  pid_t pid = ::fork();
  if (pid < 0) return fail(sys_error("fork"));
  if (pid == 0) {
    auto setup = [&](int mode_pipe, int pipe_end, int null_flags, int target, bool use_null) {
      if (mode_pipe >= 0) {
        ::dup2(pipe_end, target);
      } else if (use_null) {
        int fd = ::open("/dev/null", null_flags);
        if (fd >= 0) ::dup2(fd, target);
      }
    };
    setup(in_pipe[0], in_pipe[0], O_RDONLY, 0, opts.stdin_mode == SpawnOptions::Stdin::null);
    setup(out_pipe[1], out_pipe[1], O_WRONLY, 1, opts.stdout_mode == SpawnOptions::Stdout::null);
    setup(err_pipe[1], err_pipe[1], O_WRONLY, 2, opts.stderr_mode == SpawnOptions::Stderr::null);
    ::signal(SIGPIPE, SIG_DFL);
    if (opts.cwd && ::chdir(opts.cwd->c_str()) != 0) {
      int e = errno;
      (void)!::write(exec_pipe[1], &e, sizeof e);
      ::_exit(127);
    }
    ::execvpe(cargv[0], cargv.data(), cenv.data());
    int e = errno;
    (void)!::write(exec_pipe[1], &e, sizeof e);
    ::_exit(127);
  }

  Child child;
  child.pid_ = pid;
  ::close(exec_pipe[1]);
  if (in_pipe[0] >= 0) ::close(in_pipe[0]);
  if (out_pipe[1] >= 0) ::close(out_pipe[1]);
  if (err_pipe[1] >= 0) ::close(err_pipe[1]);
  child.in_ = in_pipe[1];
  child.out_ = out_pipe[0];
  child.err_ = err_pipe[0];
  int child_errno = 0;
  ssize_t n = ::read(exec_pipe[0], &child_errno, sizeof child_errno);
  ::close(exec_pipe[0]);
  if (n == sizeof child_errno) {
    child.close_all();
    (void)child.wait();
    return fail(ErrorKind::generic,
                "cannot run '" + argv[0] + "': " + std::strerror(child_errno));
  }
  return child;
}

Result<int> Child::wait() {
  if (pid_ <= 0) return fail(ErrorKind::generic, "no child to wait for");
  int st = 0;
  while (::waitpid(pid_, &st, 0) < 0) {
    if (errno != EINTR) return fail(sys_error("waitpid"));
  }
  pid_ = -1;
  if (WIFEXITED(st)) return WEXITSTATUS(st);
  if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
  return 255;
}

Result<Completed> run_capture(const std::vector<std::string>& argv, const SpawnOptions& base,
                              const std::string& input) {
  SpawnOptions opts = base;
  opts.stdin_mode = input.empty() && base.stdin_mode != SpawnOptions::Stdin::pipe
                        ? base.stdin_mode
                        : SpawnOptions::Stdin::pipe;
  BKP_ASSIGN(Child child, Child::spawn(argv, opts));
  Completed done;
  size_t written = 0;
  int in = child.stdin_fd(), out = child.stdout_fd(), err = child.stderr_fd();
  if (in >= 0) ::fcntl(in, F_SETFL, O_NONBLOCK);
  if (in >= 0 && input.empty()) child.close_stdin(), in = -1;
  char buf[65536];
  while (out >= 0 || err >= 0 || in >= 0) {
    pollfd fds[3];
    int n = 0;
    if (in >= 0) fds[n++] = {in, POLLOUT, 0};
    if (out >= 0) fds[n++] = {out, POLLIN, 0};
    if (err >= 0) fds[n++] = {err, POLLIN, 0};
    if (::poll(fds, n, -1) < 0) {
      if (errno == EINTR) continue;
      return fail(sys_error("poll"));
    }
    for (int i = 0; i < n; ++i) {
      if (!fds[i].revents) continue;
      if (fds[i].fd == in) {
        ssize_t w = ::write(in, input.data() + written, input.size() - written);
        if (w > 0) written += static_cast<size_t>(w);
        if (w < 0 && errno != EAGAIN && errno != EINTR) written = input.size();
        if (written == input.size()) child.close_stdin(), in = -1;
        continue;
      }
      ssize_t r = ::read(fds[i].fd, buf, sizeof buf);
      if (r > 0) {
        (fds[i].fd == out ? done.out : done.err).append(buf, static_cast<size_t>(r));
      } else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
        if (fds[i].fd == out) out = -1; else err = -1;
      }
    }
  }
  BKP_ASSIGN(done.status, child.wait());
  return done;
}

std::string describe_status(int status) {
  if (status > 128 && status < 128 + 65) return "killed by signal " + std::to_string(status - 128);
  return "exited with status " + std::to_string(status);
}

Result<std::vector<std::string>> split_command_line(std::string_view line) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (c == ' ' || c == '\t' || c == '\n') {
      if (in_word) words.push_back(std::move(word));
      word.clear();
      in_word = false;
      continue;
    }
    in_word = true;
    if (c == '\'') {
      auto end = line.find('\'', i + 1);
      if (end == std::string_view::npos) return fail(ErrorKind::usage, "unterminated ' in command");
      word.append(line.substr(i + 1, end - i - 1));
      i = end;
    } else if (c == '"') {
      for (++i; i < line.size() && line[i] != '"'; ++i) {
        if (line[i] == '\\' && i + 1 < line.size()) ++i;
        word.push_back(line[i]);
      }
      if (i >= line.size()) return fail(ErrorKind::usage, "unterminated \" in command");
    } else if (c == '\\') {
      if (i + 1 < line.size()) word.push_back(line[++i]);
    } else {
      word.push_back(c);
    }
  }
  if (in_word) words.push_back(std::move(word));
  if (words.empty()) return fail(ErrorKind::usage, "empty command");
  return words;
}

}  // namespace bkp::util
