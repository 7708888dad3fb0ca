#include "storage/azure.hpp"

#include <algorithm>
#include <cctype>
#include <pugixml.hpp>

#include "storage/azure_sharedkey.hpp"
#include "storage/cloud.hpp"
#include "storage/http_error.hpp"
#include "storage/http_range.hpp"
#include "util/text.hpp"

namespace bkp::storage {

using util::ErrorKind;
using util::fail;
using util::in_quotes;

namespace {

// A version every Azure region and Azurite 3.35 serve.
constexpr const char* api_version = "2021-12-02";

// 3 to 63 of lowercase letters, digits and single '-', starting and ending
// with a letter or digit (the service's rule).
bool valid_container(std::string_view name) {
  if (name.size() < 3 || name.size() > 63 || name.front() == '-' || name.back() == '-') {
    return false;
  }
  for (std::size_t i = 0; i < name.size(); ++i) {
    auto c = static_cast<unsigned char>(name[i]);
    if (!(std::islower(c) || std::isdigit(c) || c == '-')) return false;
    if (c == '-' && name[i - 1] == '-') return false;
  }
  return true;
}

}  // namespace

util::Error azure_error(const http::Response& response, std::string_view what) {
  return http::response_error(response, what,
                              "check the account name and the account key or SAS token, and "
                              "that the SAS token allows this operation and has not expired");
}

util::Result<AzureLocation> parse_azure_location(std::string_view location) {
  BKP_ASSIGN(
      auto parts,
      parse_cloud_location(location, "azure://",
                           "an Azure location looks like azure://container/prefix", valid_container,
                           "invalid container name (3 to 63 of lowercase letters, digits and "
                           "single '-')"));
  AzureLocation out;
  out.container = std::move(parts.container);
  out.prefix = std::move(parts.prefix);
  return out;
}

util::Result<std::unique_ptr<AzureBackend>> AzureBackend::open(AzureLocation location,
                                                               AzureOptions options) {
  if (options.account.empty()) {
    return fail(ErrorKind::usage, "opening " + in_quotes("azure://" + location.container) +
                                      ": no Azure storage account: set azure.account or "
                                      "AZURE_STORAGE_ACCOUNT");
  }
  if (options.key.empty() && options.sas_token.empty()) {
    return fail(ErrorKind::usage,
                "opening " + in_quotes("azure://" + location.container) +
                    ": no Azure credentials: set AZURE_STORAGE_KEY (the account key) or "
                    "AZURE_STORAGE_SAS_TOKEN, or AZURE_STORAGE_CONNECTION_STRING");
  }
  std::string endpoint = options.endpoint.empty()
                             ? "https://" + options.account + ".blob.core.windows.net"
                             : options.endpoint;
  BKP_ASSIGN(endpoint, checked_endpoint(std::move(endpoint), "Azure", options.client));
  if (!options.access_tier.empty()) {
    std::string tier = options.access_tier;
    for (char& c : tier) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (tier == "hot" || tier == "cool" || tier == "cold") {
      tier[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(tier[0])));
      options.access_tier = tier;
    } else {
      // Archive is refused: archived packs cannot be read back without a
      // rehydration of hours, and restore and verify must read them.
      return fail(ErrorKind::usage, "azure.access_tier must be Hot, Cool or Cold, not " +
                                        in_quotes(options.access_tier));
    }
  }
  while (!options.sas_token.empty() && options.sas_token.front() == '?') {
    options.sas_token.erase(0, 1);
  }
  if (options.block_size < (std::uint64_t{1} << 20)) options.block_size = std::uint64_t{1} << 20;
  // Put Blob takes up to 5000 MiB, but a retry resends it whole: keep it
  // to what blocks do better above.
  options.block_threshold = std::min(options.block_threshold, std::uint64_t{256} << 20);
  auto sep = endpoint.find("://");
  std::string origin = endpoint;
  std::string base_path;
  if (auto p = endpoint.find('/', sep + 3); p != std::string::npos) {
    origin = endpoint.substr(0, p);
    base_path = endpoint.substr(p);
  }
  base_path += "/" + location.container;
  return std::unique_ptr<AzureBackend>(new AzureBackend(std::move(location), std::move(options),
                                                        std::move(origin), std::move(base_path)));
}

AzureBackend::AzureBackend(AzureLocation location, AzureOptions options, std::string origin,
                           std::string base_path)
    : location_(std::move(location)),
      options_(std::move(options)),
      origin_(std::move(origin)),
      base_path_(std::move(base_path)),
      client_(options_.client) {}

AzureBackend::~AzureBackend() = default;

std::string AzureBackend::describe() const {
  std::string out = "azure://" + location_.container + "/" + location_.prefix;
  if (!out.empty() && out.back() == '/') out.pop_back();
  out += " (account " + options_.account + ")";
  if (!options_.endpoint.empty()) out += " at " + http::redact_url(options_.endpoint);
  return out;
}

util::Result<http::Response> AzureBackend::send(const Call& call, int* attempts) {
  const std::string path =
      base_path_ +
      (call.blob.empty() ? "" : "/" + sigv4::uri_encode(call.blob, sigv4::EncodeSlash::no));
  std::string query = sigv4::canonical_query(call.query);
  const bool shared_key = !options_.key.empty();
  if (!shared_key) query += (query.empty() ? "" : "&") + options_.sas_token;
  // The SAS token is in the query: http::Client and every message here
  // show URLs through redact_url, which drops it.
  const std::string url = origin_ + path + (query.empty() ? "" : "?" + query);
  int tries = 0;
  if (attempts == nullptr) attempts = &tries;
  *attempts = 0;
  return http::with_retries(options_.retry, [&]() -> util::Result<http::Response> {
    ++*attempts;
    http::Request request;
    request.method = call.method;
    request.url = url;
    request.body = call.body;
    request.headers = call.headers;
    request.headers.emplace_back("x-ms-date", azure::http_date_now());
    request.headers.emplace_back("x-ms-version", api_version);
    if (shared_key) {
      azure::RequestToSign to_sign;
      to_sign.method = call.method;
      to_sign.account = options_.account;
      to_sign.path = path;
      to_sign.query = call.query;
      to_sign.headers = request.headers;
      to_sign.content_length = call.body.size();
      request.headers.emplace_back("Authorization", azure::authorization(to_sign, options_.key));
    }
    return client_.perform(request);
  });
}

util::Status AzureBackend::put_outcome(std::string_view name, util::ByteView data, WriteMode mode,
                                       const http::Response& response, int attempts) {
  const std::string what = "storing " + in_quotes(name);
  if (response.status == 201 || response.status == 200) return {};
  // Azure (and Azurite) answer an If-None-Match: * clash with 409
  // BlobAlreadyExists; 412 is the generic precondition answer.
  const bool clash = response.status == 412 ||
                     (response.status == 409 &&
                      http::parse_service_error(response.body).code == "BlobAlreadyExists");
  if (clash && mode == WriteMode::create_only) {
    // After a retry, the clash may be our own first attempt, which landed
    // although its response was lost: then the object is ours.
    if (attempts > 1) {
      if (auto stored = get(name);
          stored.ok() && std::equal(stored->begin(), stored->end(), data.begin(), data.end())) {
        return {};
      }
    }
    return fail(ErrorKind::exists, what + ": object exists");
  }
  return fail(azure_error(response, what));
}

util::Status AzureBackend::put(std::string_view name, util::ByteView data, WriteMode mode) {
  BKP_TRY(check_object_name("storing", name));
  if (data.size() > options_.block_threshold) return put_blocks(name, data, mode);
  Call call{"PUT", blob_of(name), {}, {{"x-ms-blob-type", "BlockBlob"}}, data};
  if (!options_.access_tier.empty() && name.substr(0, 5) == "data/") {
    call.headers.emplace_back("x-ms-access-tier", options_.access_tier);
  }
  if (mode == WriteMode::create_only) call.headers.emplace_back("If-None-Match", "*");
  int attempts = 0;
  BKP_ASSIGN(auto response, send(call, &attempts));
  return put_outcome(name, data, mode, response, attempts);
}

util::Result<util::Bytes> AzureBackend::get(std::string_view name) {
  BKP_TRY(check_object_name("reading", name));
  BKP_ASSIGN(auto response, send({"GET", blob_of(name), {}, {}, {}}));
  if (response.status == 200) return std::move(response.body);
  if (response.status == 404) {
    return fail(ErrorKind::not_found, "reading " + in_quotes(name) + ": no such object");
  }
  return fail(azure_error(response, "reading " + in_quotes(name)));
}

util::Result<util::Bytes> AzureBackend::get_range(std::string_view name, std::uint64_t offset,
                                                  std::uint64_t length) {
  BKP_TRY(check_object_name("reading", name));
  return http::get_range(
      http::RangeRequest{name, offset, length,
                         [&]() -> util::Result<std::uint64_t> {
                           BKP_ASSIGN(auto info, stat(name));
                           return info.size;
                         },
                         [&](const std::string& range) {
                           return send(Call{"GET", blob_of(name), {}, {{"x-ms-range", range}}, {}});
                         },
                         [](const http::Response& response, const std::string& what) {
                           return azure_error(response, what);
                         }});
}

util::Result<ObjectInfo> AzureBackend::stat(std::string_view name) {
  BKP_TRY(check_object_name("inspecting", name));
  BKP_ASSIGN(auto response, send({"HEAD", blob_of(name), {}, {}, {}}));
  if (response.status == 404) {
    return fail(ErrorKind::not_found, "reading " + in_quotes(name) + ": no such object");
  }
  // A HEAD answer has no body; azure_error reads x-ms-error-code instead.
  if (response.status != 200) return fail(azure_error(response, "inspecting " + in_quotes(name)));
  return head_object_info(response, name);
}

util::Status AzureBackend::list(std::string_view prefix,
                                const std::function<util::Status(const ObjectInfo&)>& fn) {
  const std::string what = "listing " + in_quotes(prefix);
  std::string marker;
  for (;;) {
    Call call{"GET",
              "",
              {{"restype", "container"}, {"comp", "list"}, {"prefix", blob_of(prefix)}},
              {},
              {}};
    if (options_.list_page_size > 0) {
      call.query.emplace_back("maxresults", std::to_string(options_.list_page_size));
    }
    if (!marker.empty()) call.query.emplace_back("marker", marker);
    BKP_ASSIGN(auto response, send(call));
    if (response.status != 200) return fail(azure_error(response, what));
    pugi::xml_document doc;
    BKP_ASSIGN(pugi::xml_node result, xml_answer(doc, response, "EnumerationResults", what));
    for (pugi::xml_node item : result.child("Blobs").children("Blob")) {
      pugi::xml_node name_node = item.child("Name");
      std::string key = name_node.child_value();
      if (std::string_view(name_node.attribute("Encoded").value()) == "true") {
        key = util::percent_decode(key);
      }
      auto name = listed_name(key, location_.prefix);
      if (!name) continue;
      auto size =
          util::parse_number<std::uint64_t>(item.child("Properties").child_value("Content-Length"));
      if (!size) return fail(ErrorKind::generic, what + ": invalid size for " + in_quotes(*name));
      BKP_TRY(fn(ObjectInfo{std::move(*name), *size}));
    }
    marker = result.child_value("NextMarker");
    if (marker.empty()) return {};
  }
}

util::Status AzureBackend::remove(std::string_view name) {
  BKP_TRY(check_object_name("removing", name));
  BKP_ASSIGN(auto response, send({"DELETE", blob_of(name), {}, {}, {}}));
  if (response.status == 202 || response.status == 200 || response.status == 404) return {};
  return fail(azure_error(response, "removing " + in_quotes(name)));
}

}  // namespace bkp::storage
