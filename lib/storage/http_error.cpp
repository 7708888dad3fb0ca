#include "storage/http_error.hpp"

#include <pugixml.hpp>

#include "storage/http_retry.hpp"

namespace bkp::storage::http {

namespace {

constexpr std::size_t max_message = 300;

std::string clean(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (out.size() >= max_message) {
      out += "...";
      break;
    }
    // One line: control characters from the server become spaces.
    out.push_back(static_cast<unsigned char>(c) < 0x20 ? ' ' : c);
  }
  return out;
}

// For answers without a body (HEAD), so the message still says something.
std::string_view reason(long status) {
  switch (status) {
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 409:
      return "Conflict";
    case 412:
      return "Precondition Failed";
    case 416:
      return "Range Not Satisfiable";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "";
  }
}

}  // namespace

ServiceError parse_service_error(util::ByteView body) {
  ServiceError out;
  if (body.empty()) return out;
  pugi::xml_document doc;
  auto parsed = doc.load_buffer(body.data(), body.size(), pugi::parse_default, pugi::encoding_utf8);
  if (!parsed) return out;
  pugi::xml_node error = doc.child("Error");
  if (!error) return out;
  out.code = clean(error.child_value("Code"));
  out.message = clean(error.child_value("Message"));
  return out;
}

util::ErrorKind kind_for_status(long status) {
  if (status == 404) return util::ErrorKind::not_found;
  if (status == 401 || status == 403) return util::ErrorKind::auth;
  if (retryable_status(status)) return util::ErrorKind::transient;
  return util::ErrorKind::generic;
}

util::Error response_error(const Response& response, std::string_view what,
                           std::string_view auth_hint) {
  ServiceError service = parse_service_error(response.body);
  if (service.code.empty()) {
    if (auto code = response.header("x-ms-error-code")) service.code = clean(*code);
  }
  std::string message = std::string(what) + ": HTTP " + std::to_string(response.status);
  if (!service.code.empty()) {
    message.append(" ").append(service.code);
  } else if (auto r = reason(response.status); !r.empty()) {
    // append(), not `" " + string(r)`: GCC 12 at -O3 warns (-Wrestrict) on
    // the inlined temporary, a known false positive.
    message.append(" ").append(r);
  }
  if (!service.message.empty()) message.append(": ").append(service.message);
  auto kind = kind_for_status(response.status);
  if (kind == util::ErrorKind::auth) {
    message.append(" (the server refused the request: ").append(auth_hint).append(")");
  }
  return util::make_error(kind, std::move(message));
}

}  // namespace bkp::storage::http
