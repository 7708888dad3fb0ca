// From a location and the configured options (falling back to the
// environment: AZURE_STORAGE_ACCOUNT, AZURE_STORAGE_KEY,
// AZURE_STORAGE_SAS_TOKEN, AZURE_STORAGE_CONNECTION_STRING) to an
// AzureBackend.

#include "storage/azure.hpp"
#include "storage/azure_sharedkey.hpp"
#include "util/env.hpp"

namespace bkp::storage {

using util::ErrorKind;
using util::fail;

namespace {

// "Key=Value;Key=Value" of a connection string; the keys bkp reads.
struct ConnectionString {
  std::string account, key, sas, blob_endpoint, protocol, suffix;
};

ConnectionString parse_connection_string(std::string_view text) {
  ConnectionString out;
  while (!text.empty()) {
    auto semi = text.find(';');
    std::string_view part = text.substr(0, semi);
    text = semi == std::string_view::npos ? std::string_view() : text.substr(semi + 1);
    auto eq = part.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view name = part.substr(0, eq);
    std::string value(part.substr(eq + 1));  // a key or SAS may itself hold '='
    if (name == "AccountName") out.account = value;
    if (name == "AccountKey") out.key = value;
    if (name == "SharedAccessSignature") out.sas = value;
    if (name == "BlobEndpoint") out.blob_endpoint = value;
    if (name == "DefaultEndpointsProtocol") out.protocol = value;
    if (name == "EndpointSuffix") out.suffix = value;
  }
  return out;
}

}  // namespace

util::Result<std::unique_ptr<Backend>> open_azure_backend(std::string_view location,
                                                          const BackendOptions& options) {
  BKP_ASSIGN(auto where, parse_azure_location(location));
  ConnectionString cs = parse_connection_string(util::env("AZURE_STORAGE_CONNECTION_STRING"));
  auto first = [](std::initializer_list<std::string> values) {
    for (const auto& v : values)
      if (!v.empty()) return v;
    return std::string();
  };
  AzureOptions azure;
  azure.account = first({options.azure_account, util::env("AZURE_STORAGE_ACCOUNT"), cs.account});
  azure.endpoint = first({options.azure_endpoint, cs.blob_endpoint});
  if (azure.endpoint.empty() && !cs.suffix.empty() && !azure.account.empty()) {
    azure.endpoint = (cs.protocol.empty() ? "https" : cs.protocol) + "://" + azure.account +
                     ".blob." + cs.suffix;
  }
  std::string key = first({options.azure_key, util::env("AZURE_STORAGE_KEY"), cs.key});
  if (!key.empty()) {
    auto decoded = azure::decode_account_key(key);
    util::wipe(key.data(), key.size());
    if (!decoded) return decoded.propagate();
    azure.key = std::move(*decoded);
  }
  azure.sas_token = first({options.azure_sas_token, util::env("AZURE_STORAGE_SAS_TOKEN"), cs.sas});
  azure.access_tier = options.azure_access_tier;
  if (options.azure_block_threshold > 0) azure.block_threshold = options.azure_block_threshold;
  if (options.azure_list_page_size > 0) azure.list_page_size = options.azure_list_page_size;
  if (options.insecure_http) azure.client.plain_http = http::PlainHttp::allowed;
  azure.client.max_send_speed = options.limit_upload;
  azure.client.max_recv_speed = options.limit_download;
  BKP_ASSIGN(auto backend, AzureBackend::open(std::move(where), std::move(azure)));
  return std::unique_ptr<Backend>(std::move(backend));
}

}  // namespace bkp::storage
