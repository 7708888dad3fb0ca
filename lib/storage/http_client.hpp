// A small HTTP client on libcurl for the cloud backends: one request at a
// time per call, handles pooled and reused (keep-alive) across calls and
// threads, TLS always verified, plain http only to loopback hosts unless the
// caller allows it, proxies from the environment (libcurl's default).
// Transport failures come back classified (ErrorKind::transient for
// timeouts, resets, refused connections and truncated bodies); any HTTP
// status comes back as a Response for the caller to judge.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/bytes.hpp"
#include "util/result.hpp"

namespace bkp::storage::http {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string method = "GET";
  std::string url;  // absolute, already percent-encoded
  Headers headers;
  util::ByteView body;
  // HEAD: no body is read, so no length check either.
  bool head() const { return method == "HEAD"; }
};

struct Response {
  long status = 0;
  Headers headers;  // names lowercased, in arrival order
  util::Bytes body;
  std::optional<std::string> header(std::string_view name) const;
};

enum class PlainHttp { loopback_only, allowed };

struct ClientOptions {
  std::chrono::milliseconds connect_timeout{10'000};
  // A transfer slower than low_speed_bytes per second for low_speed_time is
  // abandoned as a timeout (and then retried by the caller's policy).
  std::chrono::seconds low_speed_time{30};
  long low_speed_bytes = 1024;
  PlainHttp plain_http = PlainHttp::loopback_only;
  // Bytes per second per transfer, 0 for no limit (CURLOPT_MAX_SEND_SPEED_LARGE
  // and CURLOPT_MAX_RECV_SPEED_LARGE).
  std::uint64_t max_send_speed = 0;
  std::uint64_t max_recv_speed = 0;
  // Only for tests against a server with a self-signed certificate.
  std::string ca_file;
};

// True for 127.0.0.0/8, ::1 and localhost.
bool loopback_host(std::string_view host);

// "scheme://host[:port]/path" without its query string, for messages:
// queries may carry signatures or tokens.
std::string redact_url(std::string_view url);

class Client {
 public:
  explicit Client(ClientOptions options = {});
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Checks that `url` is http(s) and that plain http goes to loopback only
  // (or is allowed); ErrorKind::usage otherwise.
  util::Status check_url(std::string_view url) const;

  // One attempt, no retries. A body shorter or longer than Content-Length
  // is ErrorKind::transient ("truncated response"), never returned as data.
  util::Result<Response> perform(const Request& request);

 private:
  struct Pool;
  ClientOptions options_;
  std::unique_ptr<Pool> pool_;
};

}  // namespace bkp::storage::http
