#include "storage/backend.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <string>

#include "bkp_build_config.hpp"
#include "storage/local.hpp"
#include "storage/rate_limit.hpp"
#include "storage/temp_name.hpp"

namespace bkp::storage {

namespace fs = std::filesystem;
using util::ErrorKind;
using util::fail;

bool is_temp_name(std::string_view name) {
  const std::size_t suffix = temp_marker.size() + temp_random_chars;
  if (name.size() < suffix) return false;
  std::string_view tail = name.substr(name.size() - suffix);
  if (tail.substr(0, temp_marker.size()) != temp_marker) return false;
  return std::all_of(tail.begin() + static_cast<std::ptrdiff_t>(temp_marker.size()), tail.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); });
}

util::Status check_object_name(std::string_view action, std::string_view name) {
  if (valid_object_name(name)) return {};
  return fail(ErrorKind::usage,
              std::string(action) + " '" + std::string(name) +
                  "': invalid object name (names are relative '/'-separated paths without empty, "
                  "'.' or '..' segments, NUL bytes or a '.tmp-' temporary suffix)");
}

bool valid_object_name(std::string_view name) {
  if (name.empty() || name.find('\0') != std::string_view::npos) return false;
  std::size_t start = 0;
  for (;;) {
    std::size_t end = name.find('/', start);
    std::string_view segment =
        name.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    if (segment.empty() || segment == "." || segment == "..") return false;
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return !is_temp_name(name);
}

namespace {

// "scheme://rest" per RFC 3986 (letter, then letters, digits, '+', '-', '.').
// Returns the lowercased scheme, or an empty string for a plain path.
std::string url_scheme(std::string_view location) {
  std::size_t sep = location.find("://");
  if (sep == std::string_view::npos || sep == 0) return {};
  std::string_view scheme = location.substr(0, sep);
  if (!std::isalpha(static_cast<unsigned char>(scheme[0]))) return {};
  for (char c : scheme) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.') {
      return {};
    }
  }
  std::string lower(scheme);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower;
}

util::Result<std::unique_ptr<Backend>> open_local(std::string_view path_text,
                                                  std::string_view location,
                                                  const BackendOptions& options) {
  std::string text(path_text);
  // "/repo/" and "/repo" are the same repository; keep describe() stable.
  while (text.size() > 1 && text.back() == '/') text.pop_back();
  std::error_code ec;
  fs::path root = fs::absolute(fs::path(text), ec);
  if (ec) {
    return fail(ErrorKind::usage, "opening repository '" + std::string(location) +
                                      "': cannot make the path absolute: " + ec.message());
  }
  auto bucket = [](std::uint64_t rate) {
    return rate > 0 ? std::make_shared<util::RateLimiter>(rate, std::chrono::seconds(1)) : nullptr;
  };
  return rate_limited(std::make_unique<LocalBackend>(std::move(root)), bucket(options.limit_upload),
                      bucket(options.limit_download));
}

}  // namespace

#if BKP_HAVE_S3
// s3_open.cpp
util::Result<std::unique_ptr<Backend>> open_s3_backend(std::string_view location,
                                                       const BackendOptions& options);
#endif
#if BKP_HAVE_GCS
// gcs_open.cpp
util::Result<std::unique_ptr<Backend>> open_gcs_backend(std::string_view location,
                                                        const BackendOptions& options);
#endif
#if BKP_HAVE_AZURE
// azure_open.cpp
util::Result<std::unique_ptr<Backend>> open_azure_backend(std::string_view location,
                                                          const BackendOptions& options);
#endif

util::Result<std::unique_ptr<Backend>> open_backend(std::string_view location,
                                                    const BackendOptions& options) {
  if (location.empty()) {
    return fail(ErrorKind::usage, "no repository given: use -r/--repo or BKP_REPOSITORY");
  }
  std::string scheme = url_scheme(location);
  if (scheme.empty()) return open_local(location, location, options);
  if (scheme == "file") {
    // file:///path or file://localhost/path (RFC 8089). The path is taken
    // literally: no percent-decoding, so it means what a shell user typed.
    std::string_view rest = location.substr(scheme.size() + 3);
    if (rest.substr(0, 9) == "localhost") rest.remove_prefix(9);
    if (rest.empty() || rest.front() != '/') {
      return fail(ErrorKind::usage, "opening repository '" + std::string(location) +
                                        "': a file:// location needs an absolute path, "
                                        "as in file:///srv/backup");
    }
    return open_local(rest, location, options);
  }
#if BKP_HAVE_S3
  if (scheme == "s3") return open_s3_backend(location, options);
#endif
#if BKP_HAVE_AZURE
  if (scheme == "azure") return open_azure_backend(location, options);
#endif
#if BKP_HAVE_GCS
  if (scheme == "gs") return open_gcs_backend(location, options);
#endif
  (void)options;
  return fail(ErrorKind::usage, "storage backend '" + scheme + "' is not built into this bkp");
}

util::Result<CloudLocation> parse_cloud_location(std::string_view location, std::string_view scheme,
                                                 std::string_view example,
                                                 bool (*valid_container)(std::string_view),
                                                 std::string_view invalid_container) {
  auto bad = [&](std::string_view why) {
    return util::fail(util::ErrorKind::usage,
                      "opening repository '" + std::string(location) + "': " + std::string(why));
  };
  if (location.size() < scheme.size() || location.substr(0, scheme.size()) != scheme) {
    return bad(example);
  }
  std::string_view rest = location.substr(scheme.size());
  auto slash = rest.find('/');
  CloudLocation out;
  out.container = std::string(rest.substr(0, slash));
  if (!valid_container(out.container)) return bad(invalid_container);
  std::string prefix(slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1));
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  if (!prefix.empty()) {
    if (!valid_object_name(prefix)) return bad("invalid prefix");
    prefix.push_back('/');
  }
  out.prefix = std::move(prefix);
  return out;
}

util::Status Backend::create_container() {
  return util::fail(util::ErrorKind::usage,
                    "'" + describe() + "' has no bucket or container to create");
}

}  // namespace bkp::storage
