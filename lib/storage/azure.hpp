// The Azure Blob backend: objects under azure://container/prefix as block
// blobs, over http_client with Shared Key signatures (or a SAS token),
// retries and classified errors. Large objects go up as blocks committed by
// one Put Block List, so readers see all of an object or none of it;
// create-only writes use If-None-Match: *.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "storage/backend.hpp"
#include "storage/http_client.hpp"
#include "storage/http_retry.hpp"
#include "storage/sigv4.hpp"
#include "util/secret.hpp"

namespace bkp::storage {

struct AzureLocation {
  std::string container;
  std::string prefix;  // "" or "a/b/" (always ending in '/')
};

// "azure://container" or "azure://container/some/prefix"; ErrorKind::usage
// otherwise.
util::Result<AzureLocation> parse_azure_location(std::string_view location);

struct AzureOptions {
  std::string account;
  // "https://<account>.blob.core.windows.net" when empty; Azurite and
  // sovereign clouds name their own, with the account in the path for
  // Azurite: "http://127.0.0.1:10000/devstoreaccount1".
  std::string endpoint;
  util::SecretBytes key;  // the decoded account key, for Shared Key
  std::string sas_token;  // "sv=...&sig=..." (no '?'), used when there is no key
  std::uint64_t block_threshold = std::uint64_t{64} << 20;
  std::uint64_t block_size = std::uint64_t{16} << 20;
  int list_page_size = 0;  // 0: the service's default (5000)
  // For objects under data/ (the packs, the bulk of a repository): "" (the
  // account's default), Hot, Cool or Cold. Other objects keep the default.
  std::string access_tier;
  http::ClientOptions client;
  http::RetryPolicy retry;
};

class AzureBackend final : public Backend {
 public:
  // Checks the endpoint (http(s), plain http only to loopback unless
  // allowed) and that there is a key or a SAS token; ErrorKind::usage when
  // unusable.
  static util::Result<std::unique_ptr<AzureBackend>> open(AzureLocation location,
                                                          AzureOptions options);
  ~AzureBackend() override;

  std::string describe() const override;
  std::string_view kind() const override { return "azure"; }
  unsigned parallel_reads() const override { return 8; }
  util::Status put(std::string_view name, util::ByteView data, WriteMode mode) override;
  util::Result<util::Bytes> get(std::string_view name) override;
  util::Result<util::Bytes> get_range(std::string_view name, std::uint64_t offset,
                                      std::uint64_t length) override;
  util::Result<ObjectInfo> stat(std::string_view name) override;
  util::Status list(std::string_view prefix,
                    const std::function<util::Status(const ObjectInfo&)>& fn) override;
  util::Status remove(std::string_view name) override;
  util::Result<bool> container_exists() override;
  util::Status create_container() override;

  // One signed request with retries; any HTTP status comes back as a
  // Response. `blob` is the full blob name ("" for the container itself).
  struct Call {
    std::string method;
    std::string blob;
    sigv4::QueryParams query;
    http::Headers headers;
    util::ByteView body;
  };
  util::Result<http::Response> send(const Call& call, int* attempts = nullptr);

 private:
  AzureBackend(AzureLocation location, AzureOptions options, std::string origin,
               std::string base_path);
  util::Status put_blocks(std::string_view name, util::ByteView data, WriteMode mode);
  util::Status put_outcome(std::string_view name, util::ByteView data, WriteMode mode,
                           const http::Response& response, int attempts);
  std::string blob_of(std::string_view name) const { return location_.prefix + std::string(name); }

  AzureLocation location_;
  AzureOptions options_;
  std::string origin_;     // "https://acct.blob.core.windows.net"
  std::string base_path_;  // "/container" or "/devstoreaccount1/container"
  http::Client client_;
};

// The message for an error response from Azure, with a hint fitting its
// credentials on 401/403.
util::Error azure_error(const http::Response& response, std::string_view what);

}  // namespace bkp::storage
