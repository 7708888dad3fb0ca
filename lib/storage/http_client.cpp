#include "storage/http_client.hpp"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <mutex>

#include "util/text.hpp"

namespace bkp::storage::http {

using util::ErrorKind;
using util::fail;

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Transfer {
  const Request* request = nullptr;
  std::size_t sent = 0;
  Response response;
};

size_t on_write(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const auto* p = reinterpret_cast<const std::uint8_t*>(data);
  t->response.body.insert(t->response.body.end(), p, p + size * count);
  return size * count;
}

size_t on_read(char* buffer, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::size_t n = std::min(size * count, t->request->body.size() - t->sent);
  if (n > 0) std::memcpy(buffer, t->request->body.data() + t->sent, n);
  t->sent += n;
  return n;
}

// libcurl rewinds the body when it resends on a reused connection that died.
int on_seek(void* user, curl_off_t offset, int origin) {
  auto* t = static_cast<Transfer*>(user);
  if (origin != SEEK_SET || offset < 0 ||
      static_cast<std::size_t>(offset) > t->request->body.size()) {
    return CURL_SEEKFUNC_CANTSEEK;
  }
  t->sent = static_cast<std::size_t>(offset);
  return CURL_SEEKFUNC_OK;
}

size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string_view line(data, size * count);
  // A new status line (after "100 Continue" or a proxy's CONNECT) starts over.
  if (line.substr(0, 5) == "HTTP/") {
    t->response.headers.clear();
    return size * count;
  }
  auto colon = line.find(':');
  if (colon == std::string_view::npos) return size * count;
  std::string name = lower(trim(line.substr(0, colon)));
  std::string value(trim(line.substr(colon + 1)));
  if (name == "content-length" && !t->request->head()) {
    // Reserve up front, but never trust a header for more than a pack's size.
    auto length = util::parse_number<std::uint64_t>(value);
    if (length && *length <= (std::uint64_t{256} << 20)) {
      t->response.body.reserve(static_cast<std::size_t>(*length));
    }
  }
  t->response.headers.emplace_back(std::move(name), std::move(value));
  return size * count;
}

ErrorKind classify(CURLcode code) {
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return ErrorKind::transient;
    default:
      return ErrorKind::generic;
  }
}

struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

}  // namespace

std::optional<std::string> Response::header(std::string_view name) const {
  std::string want = lower(name);
  for (const auto& [n, v] : headers)
    if (n == want) return v;
  return std::nullopt;
}

bool loopback_host(std::string_view host) {
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  std::string h = lower(host);
  if (h == "localhost") return true;
  in_addr v4{};
  if (::inet_pton(AF_INET, h.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  return ::inet_pton(AF_INET6, h.c_str(), &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
}

std::string redact_url(std::string_view url) {
  auto q = url.find_first_of("?#");
  if (q == std::string_view::npos) return std::string(url);
  return std::string(url.substr(0, q)) + (url[q] == '?' ? "?<query>" : "");
}

struct Client::Pool {
  std::mutex mutex;
  std::vector<CURL*> idle;
  ~Pool() {
    for (CURL* h : idle) curl_easy_cleanup(h);
  }
  CURL* acquire() {
    {
      std::lock_guard lock(mutex);
      if (!idle.empty()) {
        CURL* h = idle.back();
        idle.pop_back();
        return h;
      }
    }
    return curl_easy_init();
  }
  // curl_easy_reset keeps the handle's live connections and DNS cache.
  void release(CURL* h) {
    curl_easy_reset(h);
    std::lock_guard lock(mutex);
    idle.push_back(h);
  }
};

Client::Client(ClientOptions options)
    : options_(std::move(options)), pool_(std::make_unique<Pool>()) {
  global_init();
}

Client::~Client() = default;

util::Status Client::check_url(std::string_view url) const {
  const std::string shown = redact_url(url);
  CURLU* u = curl_url();
  if (u == nullptr) return fail(ErrorKind::generic, "out of memory parsing a url");
  std::string text(url);
  char* scheme = nullptr;
  char* host = nullptr;
  util::Status result;
  if (curl_url_set(u, CURLUPART_URL, text.c_str(), 0) != CURLUE_OK ||
      curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
      curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
    result = fail(ErrorKind::usage, "invalid url '" + shown + "'");
  } else if (std::string s = lower(scheme); s != "https" && s != "http") {
    result = fail(ErrorKind::usage, "url '" + shown + "': only http and https are supported");
  } else if (s == "http" && options_.plain_http == PlainHttp::loopback_only &&
             !loopback_host(host)) {
    result = fail(ErrorKind::usage,
                  "url '" + shown +
                      "': plain http is only allowed to a loopback address; use https, "
                      "or allow insecure http explicitly");
  }
  curl_free(scheme);
  curl_free(host);
  curl_url_cleanup(u);
  return result;
}

util::Result<Response> Client::perform(const Request& request) {
  BKP_TRY(check_url(request.url));
  CURL* h = pool_->acquire();
  if (h == nullptr) return fail(ErrorKind::generic, "cannot create an http handle");

  Transfer t;
  t.request = &request;
  std::unique_ptr<curl_slist, SlistDeleter> list;
  auto add = [&](const std::string& line) {
    curl_slist* next = curl_slist_append(list.get(), line.c_str());
    if (next != nullptr) {
      (void)list.release();
      list.reset(next);
    }
  };
  for (const auto& [name, value] : request.headers) add(name + ": " + value);
  add("Expect:");  // no 100-continue round trip before every upload

  curl_easy_setopt(h, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!options_.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, options_.ca_file.c_str());
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(options_.connect_timeout.count()));
  // A rate limit below the low-speed floor would read as a stalled
  // transfer: the floor drops to half the limit.
  long low_speed = options_.low_speed_bytes;
  for (std::uint64_t limit : {options_.max_send_speed, options_.max_recv_speed}) {
    if (limit > 0 && static_cast<std::uint64_t>(low_speed) > limit / 2) {
      low_speed = static_cast<long>(limit / 2);
    }
  }
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, low_speed);
  if (options_.max_send_speed > 0) {
    curl_easy_setopt(h, CURLOPT_MAX_SEND_SPEED_LARGE,
                     static_cast<curl_off_t>(options_.max_send_speed));
  }
  if (options_.max_recv_speed > 0) {
    curl_easy_setopt(h, CURLOPT_MAX_RECV_SPEED_LARGE,
                     static_cast<curl_off_t>(options_.max_recv_speed));
  }
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, static_cast<long>(options_.low_speed_time.count()));
  curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, list.get());
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &t);
  if (request.head()) {
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  } else if (request.method == "PUT" || request.method == "POST") {
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(h, CURLOPT_READDATA, &t);
    curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, on_seek);
    curl_easy_setopt(h, CURLOPT_SEEKDATA, &t);
    if (request.method == "POST") curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "POST");
  } else if (request.method != "GET") {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }

  char errbuf[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  CURLcode code = curl_easy_perform(h);
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &t.response.status);
  pool_->release(h);

  const std::string what = request.method + " '" + redact_url(request.url) + "'";
  if (code != CURLE_OK) {
    std::string detail = errbuf[0] != '\0' ? errbuf : curl_easy_strerror(code);
    if (code == CURLE_PARTIAL_FILE) detail = "truncated response (" + detail + ")";
    return fail(classify(code), what + ": " + detail);
  }
  if (auto length = t.response.header("content-length"); length && !request.head()) {
    auto expected = util::parse_number<std::uint64_t>(*length);
    if (!expected) {
      return fail(ErrorKind::transient, what + ": invalid Content-Length '" + *length + "'");
    }
    if (*expected != t.response.body.size()) {
      return fail(ErrorKind::transient, what + ": truncated response: got " +
                                            std::to_string(t.response.body.size()) + " of " +
                                            std::to_string(*expected) + " bytes");
    }
  }
  return std::move(t.response);
}

}  // namespace bkp::storage::http
