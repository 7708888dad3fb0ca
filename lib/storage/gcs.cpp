#include "storage/gcs.hpp"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "storage/cloud.hpp"
#include "storage/http_error.hpp"
#include "storage/http_range.hpp"
#include "util/text.hpp"

namespace bkp::storage {

using util::ErrorKind;
using util::fail;
using util::in_quotes;

namespace {

// GCS bucket names: 3 to 63 of lowercase letters, digits, '-', '_' and '.',
// starting and ending with a letter or digit (dotted names up to 222 are
// allowed by Google but need DNS verification; bkp accepts them too).
bool valid_bucket(std::string_view bucket) {
  if (bucket.size() < 3 || bucket.size() > 222) return false;
  auto alnum = [](char c) {
    return std::islower(static_cast<unsigned char>(c)) ||
           std::isdigit(static_cast<unsigned char>(c));
  };
  if (!alnum(bucket.front()) || !alnum(bucket.back())) return false;
  return std::all_of(bucket.begin(), bucket.end(),
                     [&](char c) { return alnum(c) || c == '-' || c == '_' || c == '.'; });
}

// The JSON API writes sizes as decimal strings ("size": "123").
std::optional<std::uint64_t> json_size(const nlohmann::json& item) {
  auto it = item.find("size");
  if (it == item.end()) return std::nullopt;
  if (it->is_number_unsigned()) return it->get<std::uint64_t>();
  if (!it->is_string()) return std::nullopt;
  return util::parse_number<std::uint64_t>(it->get_ref<const std::string&>());
}

nlohmann::json parse_json(const util::Bytes& body) {
  return nlohmann::json::parse(body.begin(), body.end(), nullptr, false);
}

constexpr std::string_view gcs_auth_hint =
    "check the service account key and the account's roles on the bucket";

}  // namespace

util::Error gcs_error(const http::Response& response, std::string_view what) {
  nlohmann::json doc = parse_json(response.body);
  if (!doc.is_object() || !doc.contains("error") || !doc["error"].is_object()) {
    // Not the JSON API's answer (a proxy, or an XML error): the generic one.
    return http::response_error(response, what, gcs_auth_hint);
  }
  const auto& error = doc["error"];
  std::string reason, message;
  if (auto errors = error.find("errors");
      errors != error.end() && errors->is_array() && !errors->empty() && (*errors)[0].is_object() &&
      (*errors)[0].contains("reason") && (*errors)[0]["reason"].is_string()) {
    reason = (*errors)[0]["reason"].get<std::string>();
  }
  if (auto m = error.find("message"); m != error.end() && m->is_string()) {
    message = m->get<std::string>();
  }
  // One line, bounded: the text comes from the network.
  for (auto* s : {&reason, &message}) {
    if (s->size() > 300) s->resize(300);
    for (char& c : *s)
      if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  }
  std::string text = std::string(what) + ": HTTP " + std::to_string(response.status);
  if (!reason.empty()) text += " " + reason;
  if (!message.empty()) text += ": " + message;
  auto kind = http::kind_for_status(response.status);
  if (kind == ErrorKind::auth) {
    text.append(" (the server refused the request: ").append(gcs_auth_hint).append(")");
  }
  return util::make_error(kind, std::move(text));
}

util::Result<GcsLocation> parse_gcs_location(std::string_view location) {
  BKP_ASSIGN(auto parts,
             parse_cloud_location(location, "gs://", "a GCS location looks like gs://bucket/prefix",
                                  valid_bucket,
                                  "invalid bucket name (3 to 63 of lowercase letters, digits, "
                                  "'-', '_', '.', starting and ending with a letter or digit)"));
  return GcsLocation{std::move(parts.container), std::move(parts.prefix)};
}

util::Result<std::unique_ptr<GcsBackend>> GcsBackend::open(GcsLocation location,
                                                           GcsOptions options) {
  std::string endpoint =
      options.endpoint.empty() ? std::string(gcs_default_endpoint) : options.endpoint;
  BKP_ASSIGN(endpoint, checked_endpoint(std::move(endpoint), "GCS", options.client));
  http::Client probe(options.client);
  if (auto st = probe.check_url(options.key.token_uri); !st.ok()) {
    return fail(st.error().context("the service account key's token_uri"));
  }
  return std::unique_ptr<GcsBackend>(
      new GcsBackend(std::move(location), std::move(options), std::move(endpoint)));
}

GcsBackend::GcsBackend(GcsLocation location, GcsOptions options, std::string endpoint)
    : location_(std::move(location)),
      options_(std::move(options)),
      endpoint_(std::move(endpoint)),
      client_(options_.client),
      tokens_(std::make_unique<gcs::TokenSource>(options_.key, client_, options_.retry)) {
  // The token source holds its own copy of the key.
  options_.key.private_key_pem = util::SecretBytes();
}

GcsBackend::~GcsBackend() = default;

std::string GcsBackend::describe() const {
  std::string out = "gs://" + location_.bucket + "/" + location_.prefix;
  if (out.back() == '/') out.pop_back();
  if (!options_.endpoint.empty()) out += " at " + http::redact_url(options_.endpoint);
  return out;
}

std::string GcsBackend::object_url(std::string_view name, const sigv4::QueryParams& query) const {
  std::string url = endpoint_ + "/storage/v1/b/" +
                    sigv4::uri_encode(location_.bucket, sigv4::EncodeSlash::yes) + "/o/" +
                    sigv4::uri_encode(object_of(name), sigv4::EncodeSlash::yes);
  if (!query.empty()) url += "?" + sigv4::canonical_query(query);
  return url;
}

std::string GcsBackend::upload_url(std::string_view name, std::string_view upload_type,
                                   WriteMode mode) const {
  sigv4::QueryParams query{{"uploadType", std::string(upload_type)}, {"name", object_of(name)}};
  // Generation 0 means "no live object": the write fails with 412 if one
  // exists, decided by the service at the moment the object is created.
  if (mode == WriteMode::create_only) query.emplace_back("ifGenerationMatch", "0");
  return endpoint_ + "/upload/storage/v1/b/" +
         sigv4::uri_encode(location_.bucket, sigv4::EncodeSlash::yes) + "/o?" +
         sigv4::canonical_query(query);
}

util::Result<http::Response> GcsBackend::send(const Call& call, int* attempts) {
  int tries = 0;
  if (attempts == nullptr) attempts = &tries;
  *attempts = 0;
  std::string used;
  auto once = [&]() {
    return http::with_retries(options_.retry, [&]() -> util::Result<http::Response> {
      auto token = tokens_->token();
      if (!token) {
        auto error = token.error();
        // The exchange has retried on its own; do not multiply the tries.
        if (error.kind == ErrorKind::transient) error.kind = ErrorKind::generic;
        return fail(std::move(error));
      }
      used = std::move(*token);
      ++*attempts;
      http::Request request;
      request.method = call.method;
      request.url = call.url;
      request.headers = call.headers;
      request.headers.emplace_back("Authorization", "Bearer " + used);
      request.body = call.body;
      return client_.perform(request);
    });
  };
  auto response = once();
  if (response.ok() && response->status == 401) {
    // A token can be revoked or expire early (clock skew): one more try
    // with a new one; a second 401 is the answer.
    tokens_->invalidate(used);
    response = once();
  }
  util::wipe(used.data(), used.size());
  return response;
}

util::Result<http::Response> GcsBackend::upload(std::string_view name, util::ByteView data,
                                                WriteMode mode, int& attempts) {
  const bool with_class = !options_.storage_class.empty() && name.substr(0, 5) == "data/";
  if (!with_class) {
    return send({"POST",
                 upload_url(name, "media", mode),
                 {{"Content-Type", "application/octet-stream"}},
                 data},
                &attempts);
  }
  // A media upload cannot carry metadata; a resumable session can, and is
  // finished here by one PUT of the whole object.
  nlohmann::json metadata = {{"name", object_of(name)}, {"storageClass", options_.storage_class}};
  const std::string text = metadata.dump();
  BKP_ASSIGN(auto started, send({"POST",
                                 upload_url(name, "resumable", mode),
                                 {{"Content-Type", "application/json; charset=UTF-8"},
                                  {"X-Upload-Content-Type", "application/octet-stream"},
                                  {"X-Upload-Content-Length", std::to_string(data.size())}},
                                 util::as_bytes(text)},
                                &attempts));
  if (started.status != 200) return started;
  auto session = started.header("location");
  // The bearer token goes only where the endpoint is.
  if (!session || session->substr(0, endpoint_.size() + 1) != endpoint_ + "/") {
    return fail(ErrorKind::generic, "storing " + in_quotes(name) +
                                        ": the resumable upload session is not on the endpoint");
  }
  int put_attempts = 0;
  auto response =
      send({"PUT", *session, {{"Content-Type", "application/octet-stream"}}, data}, &put_attempts);
  attempts += put_attempts;
  return response;
}

util::Status GcsBackend::put(std::string_view name, util::ByteView data, WriteMode mode) {
  BKP_TRY(check_object_name("storing", name));
  int attempts = 0;
  BKP_ASSIGN(auto response, upload(name, data, mode, attempts));
  if (response.status == 200 || response.status == 201) return {};
  if (response.status == 412 && mode == WriteMode::create_only) {
    // After a retry, the 412 may answer our own first attempt, which landed
    // although its response was lost: then the object is ours, not a clash.
    if (attempts > 1) {
      if (auto stored = get(name);
          stored.ok() && std::equal(stored->begin(), stored->end(), data.begin(), data.end())) {
        return {};
      }
    }
    return fail(ErrorKind::exists, "storing " + in_quotes(name) + ": object exists");
  }
  return fail(gcs_error(response, "storing " + in_quotes(name)));
}

util::Result<util::Bytes> GcsBackend::get(std::string_view name) {
  BKP_TRY(check_object_name("reading", name));
  BKP_ASSIGN(auto response, send({"GET", object_url(name, {{"alt", "media"}}), {}, {}}));
  if (response.status == 200) return std::move(response.body);
  if (response.status == 404) {
    return fail(ErrorKind::not_found, "reading " + in_quotes(name) + ": no such object");
  }
  return fail(gcs_error(response, "reading " + in_quotes(name)));
}

util::Result<util::Bytes> GcsBackend::get_range(std::string_view name, std::uint64_t offset,
                                                std::uint64_t length) {
  BKP_TRY(check_object_name("reading", name));
  return http::get_range(http::RangeRequest{
      name, offset, length,
      [&]() -> util::Result<std::uint64_t> {
        BKP_ASSIGN(auto info, stat(name));
        return info.size;
      },
      [&](const std::string& range) {
        return send(Call{"GET", object_url(name, {{"alt", "media"}}), {{"Range", range}}, {}});
      },
      [](const http::Response& response, const std::string& what) {
        return gcs_error(response, what);
      }});
}

util::Result<ObjectInfo> GcsBackend::stat(std::string_view name) {
  BKP_TRY(check_object_name("inspecting", name));
  BKP_ASSIGN(auto response, send({"GET", object_url(name, {{"fields", "name,size"}}), {}, {}}));
  if (response.status == 404) {
    return fail(ErrorKind::not_found, "reading " + in_quotes(name) + ": no such object");
  }
  if (response.status != 200) return fail(gcs_error(response, "inspecting " + in_quotes(name)));
  nlohmann::json doc = parse_json(response.body);
  auto size = doc.is_object() ? json_size(doc) : std::nullopt;
  if (!size) return fail(ErrorKind::generic, "inspecting " + in_quotes(name) + ": no valid size");
  return ObjectInfo{std::string(name), *size};
}

util::Status GcsBackend::list(std::string_view prefix,
                              const std::function<util::Status(const ObjectInfo&)>& fn) {
  const std::string what = "listing " + in_quotes(prefix);
  const std::string base = endpoint_ + "/storage/v1/b/" +
                           sigv4::uri_encode(location_.bucket, sigv4::EncodeSlash::yes) + "/o";
  std::string token;
  for (;;) {
    sigv4::QueryParams query{{"prefix", object_of(prefix)},
                             {"fields", "items(name,size),nextPageToken"}};
    if (options_.list_page_size > 0) {
      query.emplace_back("maxResults", std::to_string(options_.list_page_size));
    }
    if (!token.empty()) query.emplace_back("pageToken", token);
    BKP_ASSIGN(auto response, send({"GET", base + "?" + sigv4::canonical_query(query), {}, {}}));
    if (response.status != 200) return fail(gcs_error(response, what));
    nlohmann::json doc = parse_json(response.body);
    if (!doc.is_object())
      return fail(ErrorKind::generic, what + ": the server's answer is not JSON");
    if (auto items = doc.find("items"); items != doc.end()) {
      if (!items->is_array()) return fail(ErrorKind::generic, what + ": \"items\" is not a list");
      for (const auto& item : *items) {
        if (!item.is_object() || !item.contains("name") || !item["name"].is_string()) {
          return fail(ErrorKind::generic, what + ": an item without a name");
        }
        const auto& key = item["name"].get_ref<const std::string&>();
        auto name = listed_name(key, location_.prefix);
        if (!name) continue;
        auto size = json_size(item);
        if (!size) return fail(ErrorKind::generic, what + ": invalid size for " + in_quotes(*name));
        BKP_TRY(fn(ObjectInfo{std::move(*name), *size}));
      }
    }
    auto next = doc.find("nextPageToken");
    if (next == doc.end() || !next->is_string() || next->get_ref<const std::string&>().empty()) {
      return {};
    }
    token = next->get<std::string>();
  }
}

util::Status GcsBackend::remove(std::string_view name) {
  BKP_TRY(check_object_name("removing", name));
  BKP_ASSIGN(auto response, send({"DELETE", object_url(name), {}, {}}));
  if (response.status == 204 || response.status == 200 || response.status == 404) return {};
  return fail(gcs_error(response, "removing " + in_quotes(name)));
}

// Bucket creation needs a project (and a location), which a service-account
// key names but bkp has no setting for: the bucket is made with gcloud.
util::Result<bool> GcsBackend::container_exists() {
  const std::string url = endpoint_ + "/storage/v1/b/" +
                          sigv4::uri_encode(location_.bucket, sigv4::EncodeSlash::yes) +
                          "?fields=name";
  BKP_ASSIGN(auto response, send({"GET", url, {}, {}}));
  if (response.status == 200) return true;
  if (response.status == 404) return false;
  return fail(gcs_error(response, "checking bucket " + in_quotes(location_.bucket)));
}

util::Status GcsBackend::create_container() {
  return fail(ErrorKind::usage, "bkp does not create Google Cloud Storage buckets: create " +
                                    in_quotes("gs://" + location_.bucket) +
                                    " with 'gcloud storage buckets create gs://" +
                                    location_.bucket + " --location=REGION'");
}

}  // namespace bkp::storage
