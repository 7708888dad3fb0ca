// OAuth2 access tokens for a Google service account: a signed JWT assertion
// (gcs_jwt.hpp) exchanged at the key's token_uri, cached and shared by every
// thread until shortly before it expires, then refreshed.
#pragma once

#include <chrono>
#include <mutex>
#include <string>

#include "storage/gcs_jwt.hpp"
#include "storage/http_client.hpp"
#include "storage/http_retry.hpp"

namespace bkp::storage::gcs {

class TokenSource {
 public:
  TokenSource(ServiceAccountKey key, http::Client& client, http::RetryPolicy retry);

  // A token valid for a while yet. Fetches one when there is none or when
  // less than a quarter of its lifetime (at most 5 minutes) is left, so a
  // long upload does not start with a token about to expire. A refused
  // assertion (wrong key, unknown account) is ErrorKind::auth, at once.
  util::Result<std::string> token();
  // Drops `token` if it is still the cached one: the service refused it
  // (revoked, or the clock is off), so the next token() fetches a new one.
  void invalidate(const std::string& token);
  // How many exchanges ran, for tests of the cache.
  int exchanges() const;
  const std::string& account() const { return key_.client_email; }

 private:
  util::Status exchange();

  ServiceAccountKey key_;
  http::Client& client_;
  http::RetryPolicy retry_;
  mutable std::mutex mutex_;
  std::string token_;
  std::chrono::steady_clock::time_point refresh_at_{};
  int exchanges_ = 0;
};

}  // namespace bkp::storage::gcs
