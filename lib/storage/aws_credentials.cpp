#include "storage/aws_credentials.hpp"

#include <sys/stat.h>

#include <cerrno>

#include "util/env.hpp"
#include "util/fs.hpp"

namespace bkp::storage {

using util::ErrorKind;
using util::fail;

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

}  // namespace

util::Result<std::optional<sigv4::Credentials>> parse_shared_credentials(std::string_view text,
                                                                         std::string_view profile,
                                                                         std::string_view what) {
  bool in_profile = false, found = false;
  std::string id, secret, token;
  while (!text.empty()) {
    auto end = text.find('\n');
    std::string_view line = trim(text.substr(0, end));
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    if (line.front() == '[' && line.back() == ']') {
      in_profile = trim(line.substr(1, line.size() - 2)) == profile;
      found = found || in_profile;
      continue;
    }
    if (!in_profile) continue;
    auto eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view name = trim(line.substr(0, eq));
    std::string value(trim(line.substr(eq + 1)));
    if (name == "aws_access_key_id") id = value;
    if (name == "aws_secret_access_key") secret = value;
    if (name == "aws_session_token") token = value;
    util::wipe(value.data(), value.size());
  }
  if (!found) return std::optional<sigv4::Credentials>();
  if (id.empty() || secret.empty()) {
    util::wipe(secret.data(), secret.size());
    return fail(ErrorKind::usage, "AWS credentials file " + std::string(what) + ": profile '" +
                                      std::string(profile) +
                                      "' lacks aws_access_key_id or aws_secret_access_key");
  }
  sigv4::Credentials out;
  out.access_key_id = std::move(id);
  out.secret_access_key = util::SecretBytes(util::as_bytes(secret));
  util::wipe(secret.data(), secret.size());
  out.session_token = std::move(token);
  return std::optional<sigv4::Credentials>(std::move(out));
}

util::Result<std::optional<sigv4::Credentials>> read_shared_credentials() {
  std::string path = util::env("AWS_SHARED_CREDENTIALS_FILE");
  if (path.empty()) {
    std::string home = util::env("HOME");
    if (home.empty()) return std::optional<sigv4::Credentials>();
    path = home + "/.aws/credentials";
  }
  const std::string named = util::env("AWS_PROFILE");
  const std::string profile = named.empty() ? "default" : named;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    const int err = errno;
    if (err == ENOENT && named.empty()) return std::optional<sigv4::Credentials>();
    return fail(ErrorKind::usage,
                util::errno_error("reading AWS credentials file", path, err).message);
  }
  if ((st.st_mode & 077) != 0) {
    return fail(ErrorKind::usage, "AWS credentials file '" + path +
                                      "' may be read by group or others: it holds secret keys; "
                                      "run chmod 600 on it");
  }
  auto text = util::read_text_file(path);
  if (!text) return fail(ErrorKind::usage, text.error().message);
  auto creds = parse_shared_credentials(*text, profile, "'" + path + "'");
  util::wipe(text->data(), text->size());
  if (creds.ok() && !creds->has_value() && !named.empty()) {
    return fail(ErrorKind::usage, "AWS credentials file '" + path + "' has no profile '" + profile +
                                      "' (AWS_PROFILE)");
  }
  return creds;
}

}  // namespace bkp::storage
