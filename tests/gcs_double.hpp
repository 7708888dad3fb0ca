// The local double of Google's token endpoint and Cloud Storage JSON API
// (tests/servers/gcs_double.py) with a test RSA key made by openssl: the
// double checks JWT signatures against its public half. Also writes a key
// file signed by a second, unrelated key, which the double must refuse.
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "script_server.hpp"
#include "test_tmpdir.hpp"

namespace bkp::test {

class GcsDouble {
 public:
  static constexpr const char* bucket = "bkp-gcs";
  static constexpr const char* client_email = "bkp-test@bkp-project.iam.gserviceaccount.com";

  // nullopt, with `why` set, when python3's cryptography module or openssl
  // is missing (the caller prints BKP-SKIP).
  static std::unique_ptr<GcsDouble> start(std::string& why, int token_lifetime = 3600);

  std::string endpoint() const { return server_->info()["endpoint"]; }
  // A service account key file (mode 0600) the double accepts.
  const std::filesystem::path& key_file() const { return key_file_; }
  // The same account, but its private key is not the one the double knows.
  const std::filesystem::path& wrong_key_file() const { return wrong_key_file_; }
  const std::filesystem::path& dir() const { return dir_.path(); }
  // GET /_stats: token_requests, rejected_tokens, classes {object: class}.
  nlohmann::json stats() const;
  // POST /_revoke, POST /_fail?count=N&status=S.
  void revoke_tokens() const;
  void fail_next(int count, int status) const;

 private:
  GcsDouble() = default;
  TempDir dir_;
  std::optional<ScriptServer> server_;
  std::filesystem::path key_file_, wrong_key_file_;
};

}  // namespace bkp::test
