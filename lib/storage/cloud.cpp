#include "storage/cloud.hpp"

#include "util/text.hpp"

namespace bkp::storage {

using util::ErrorKind;
using util::fail;
using util::in_quotes;

util::Result<std::string> checked_endpoint(std::string endpoint, std::string_view service,
                                           const http::ClientOptions& client) {
  while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
  http::Client probe(client);
  BKP_TRY(probe.check_url(endpoint + "/"));
  if (endpoint.find_first_of("?#") != std::string::npos) {
    return fail(ErrorKind::usage, std::string(service) + " endpoint " +
                                      in_quotes(http::redact_url(endpoint)) +
                                      ": an endpoint has no query or fragment");
  }
  return endpoint;
}

std::optional<std::string> listed_name(std::string_view key, std::string_view prefix) {
  if (!key.starts_with(prefix)) return std::nullopt;
  std::string_view name = key.substr(prefix.size());
  if (!valid_object_name(name)) return std::nullopt;
  return std::string(name);
}

util::Result<ObjectInfo> head_object_info(const http::Response& response, std::string_view name) {
  auto length = response.header("content-length");
  auto size = length ? util::parse_number<std::uint64_t>(*length) : std::nullopt;
  if (!size) {
    return fail(ErrorKind::generic, "inspecting " + in_quotes(name) + ": no valid Content-Length");
  }
  return ObjectInfo{std::string(name), *size};
}

util::Result<pugi::xml_node> xml_answer(pugi::xml_document& doc, const http::Response& response,
                                        const char* root, std::string_view what) {
  if (!doc.load_buffer(response.body.data(), response.body.size())) {
    return fail(ErrorKind::generic, std::string(what) + ": the server's answer is not XML");
  }
  pugi::xml_node node = doc.child(root);
  if (!node) {
    return fail(ErrorKind::generic, std::string(what) + ": no " + root + " in the server's answer");
  }
  return node;
}

}  // namespace bkp::storage
