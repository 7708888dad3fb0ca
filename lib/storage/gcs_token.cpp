#include "storage/gcs_token.hpp"

#include <algorithm>
#include <ctime>
#include <nlohmann/json.hpp>

#include "storage/http_error.hpp"

namespace bkp::storage::gcs {

using util::ErrorKind;
using util::fail;

TokenSource::TokenSource(ServiceAccountKey key, http::Client& client, http::RetryPolicy retry)
    : key_(std::move(key)), client_(client), retry_(retry) {}

int TokenSource::exchanges() const {
  std::lock_guard lock(mutex_);
  return exchanges_;
}

util::Result<std::string> TokenSource::token() {
  std::lock_guard lock(mutex_);
  if (token_.empty() || std::chrono::steady_clock::now() >= refresh_at_) BKP_TRY(exchange());
  return token_;
}

void TokenSource::invalidate(const std::string& token) {
  std::lock_guard lock(mutex_);
  if (token == token_) {
    util::wipe(token_.data(), token_.size());
    token_.clear();
  }
}

util::Status TokenSource::exchange() {
  const std::string what = "getting an access token for '" + key_.client_email + "' from '" +
                           http::redact_url(key_.token_uri) + "'";
  BKP_ASSIGN(auto assertion,
             make_assertion(key_, read_write_scope, static_cast<std::int64_t>(std::time(nullptr))));
  std::string body =
      "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=" + assertion;
  util::wipe(assertion.data(), assertion.size());
  const auto started = std::chrono::steady_clock::now();
  auto response = http::with_retries(retry_, [&]() -> util::Result<http::Response> {
    http::Request request;
    request.method = "POST";
    request.url = key_.token_uri;
    request.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
    request.body = util::as_bytes(body);
    return client_.perform(request);
  });
  util::wipe(body.data(), body.size());
  if (!response) return fail(response.error().context(what));
  ++exchanges_;
  nlohmann::json doc =
      nlohmann::json::parse(response->body.begin(), response->body.end(), nullptr, false);
  // The body holds the token; the parsed copy is all that is needed.
  util::wipe(response->body.data(), response->body.size());
  auto text = [&](const char* name) {
    auto it = doc.is_object() ? doc.find(name) : doc.end();
    return it != doc.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  if (response->status != 200) {
    // Google answers a refused assertion with 400 invalid_grant; 401 and
    // 403 mean the same here. None of them is cured by retrying.
    std::string message = what + ": HTTP " + std::to_string(response->status);
    if (auto code = text("error"); !code.empty()) message += " " + code;
    if (auto detail = text("error_description"); !detail.empty()) {
      message += ": " + detail.substr(0, 300);
    }
    auto kind = http::kind_for_status(response->status);
    if (response->status == 400 || response->status == 401 || response->status == 403) {
      kind = ErrorKind::auth;
      message +=
          " (the token service refused the service account key: check the key file, that the key "
          "is not deleted or disabled, and the clock)";
    }
    return fail(kind, message);
  }
  std::string token = text("access_token");
  auto expires = doc.is_object() ? doc.find("expires_in") : doc.end();
  if (token.empty() || expires == doc.end() || !expires->is_number_integer() ||
      expires->get<std::int64_t>() <= 0) {
    return fail(ErrorKind::generic, what + ": no access_token and expires_in in the answer");
  }
  const auto lifetime = std::chrono::seconds(expires->get<std::int64_t>());
  const auto margin =
      std::min<std::chrono::steady_clock::duration>(std::chrono::minutes(5), lifetime / 4);
  util::wipe(token_.data(), token_.size());
  token_ = std::move(token);
  // From when the request was sent: the service's clock started before ours.
  refresh_at_ = started + lifetime - margin;
  return {};
}

}  // namespace bkp::storage::gcs
