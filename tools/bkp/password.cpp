#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <string>

#include "context.hpp"
#include "repo/key_slot.hpp"
#include "util/fs.hpp"
#include "util/subprocess.hpp"

namespace bkp::cli {

using util::ErrorKind;
using util::fail;
using util::SecretBytes;

namespace {

// Keeps the first line only: files and commands often end with a newline.
SecretBytes first_line(std::string& text) {
  auto end = text.find_first_of("\r\n");
  SecretBytes out(util::as_bytes(std::string_view(text).substr(0, end)));
  util::wipe(text.data(), text.size());
  return out;
}

util::Result<SecretBytes> prompt(const char* question) {
  int fd = ::open("/dev/tty", O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    return fail(ErrorKind::usage,
                "no passphrase given and no terminal to ask on: use --password-file, "
                "--password-command, BKP_PASSWORD_FILE or BKP_PASSWORD_COMMAND");
  }
  (void)!::write(fd, question, std::char_traits<char>::length(question));
  termios old {};
  bool restore = ::tcgetattr(fd, &old) == 0;
  if (restore) {
    termios quiet = old;
    quiet.c_lflag &= static_cast<tcflag_t>(~ECHO);
    ::tcsetattr(fd, TCSAFLUSH, &quiet);
  }
  std::string line;
  char c;
  while (::read(fd, &c, 1) == 1 && c != '\n') line.push_back(c);
  if (restore) ::tcsetattr(fd, TCSAFLUSH, &old);
  (void)!::write(fd, "\n", 1);
  ::close(fd);
  return first_line(line);
}

}  // namespace

util::Result<SecretBytes> read_password_file(const std::string& file) {
  auto text = util::read_text_file(file);
  if (!text) return fail(ErrorKind::usage, "password file: " + text.error().message);
  auto pw = first_line(*text);
  if (pw.empty()) return fail(ErrorKind::usage, "password file '" + file + "' is empty");
  return pw;
}

util::Result<SecretBytes> prompt_new_password() {
  BKP_ASSIGN(auto pw, prompt("enter new passphrase: "));
  BKP_ASSIGN(auto again, prompt("enter new passphrase again: "));
  if (pw.chars() != again.chars()) return fail(ErrorKind::usage, "passphrases do not match");
  if (pw.empty()) return fail(ErrorKind::usage, "empty passphrase");
  return pw;
}

util::Result<SecretBytes> run_key_command(const std::string& command) {
  // No shell: the words are the argv, so nothing in the configured string
  // is ever expanded or re-parsed.
  auto argv = util::split_command_line(command);
  if (!argv) return fail(argv.error().context("key command"));
  util::SpawnOptions opts;
  opts.stderr_mode = util::SpawnOptions::Stderr::inherit;
  auto done = util::run_capture(*argv, opts);
  if (!done) return fail(ErrorKind::usage, "key command: " + done.error().message);
  if (done->status != 0) {
    util::wipe(done->out.data(), done->out.size());
    return fail(ErrorKind::usage,
                "key command '" + argv->front() + "' " + util::describe_status(done->status));
  }
  auto key = repo::parse_key_text(done->out, "the output of key command '" + argv->front() + "'");
  util::wipe(done->out.data(), done->out.size());
  return key;
}

util::Result<SecretBytes> run_password_command(const std::string& command) {
  util::SpawnOptions opts;
  opts.stderr_mode = util::SpawnOptions::Stderr::inherit;
  BKP_ASSIGN(auto done, util::run_capture({"/bin/sh", "-c", command}, opts));
  if (done.status != 0) {
    util::wipe(done.out.data(), done.out.size());
    return fail(ErrorKind::usage, "password command " + util::describe_status(done.status));
  }
  auto pw = first_line(done.out);
  if (pw.empty()) return fail(ErrorKind::usage, "password command printed nothing");
  return pw;
}

util::Result<SecretBytes> read_password(const Context& ctx, Confirm confirm) {
  if (auto file = ctx.config.get("password_file"); file && !file->empty()) {
    return read_password_file(*file);
  }
  if (auto cmd = ctx.config.get("password_command"); cmd && !cmd->empty()) {
    return run_password_command(*cmd);
  }
  BKP_ASSIGN(auto pw, prompt("enter passphrase: "));
  if (confirm == Confirm::yes) {
    BKP_ASSIGN(auto again, prompt("enter passphrase again: "));
    if (pw.chars() != again.chars()) return fail(ErrorKind::usage, "passphrases do not match");
  }
  if (pw.empty()) return fail(ErrorKind::usage, "empty passphrase");
  return pw;
}

}  // namespace bkp::cli
