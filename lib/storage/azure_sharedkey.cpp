#include "storage/azure_sharedkey.hpp"

#include <sodium.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <map>

#include "crypto/hash.hpp"

namespace bkp::storage::azure {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Header values are signed with surrounding whitespace trimmed and inner
// runs of whitespace folded to one space, as the service reads them.
std::string fold(std::string_view value) {
  std::string out;
  bool space = false;
  for (char c : value) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

std::string header(const http::Headers& headers, std::string_view name) {
  for (const auto& [n, v] : headers) {
    if (lower(n) == name) return fold(v);
  }
  return {};
}

}  // namespace

std::string string_to_sign(const RequestToSign& request) {
  std::string out(request.method);
  out += '\n';
  for (std::string_view name : {"content-encoding", "content-language"}) {
    out += header(request.headers, name) + "\n";
  }
  if (request.content_length > 0) out += std::to_string(request.content_length);
  out += '\n';
  for (std::string_view name : {"content-md5", "content-type", "date", "if-modified-since",
                                "if-match", "if-none-match", "if-unmodified-since", "range"}) {
    out += header(request.headers, name) + "\n";
  }
  // x-ms-* headers, lowercased and sorted by name.
  std::map<std::string, std::string> ms;
  for (const auto& [n, v] : request.headers) {
    std::string name = lower(n);
    if (name.rfind("x-ms-", 0) == 0) ms[name] = fold(v);
  }
  for (const auto& [n, v] : ms) out += n + ":" + v + "\n";
  out += "/" + std::string(request.account) + std::string(request.path);
  // Query parameters lowercased and sorted; repeated names join with ','.
  std::map<std::string, std::vector<std::string>> params;
  for (const auto& [n, v] : request.query) params[lower(n)].push_back(v);
  for (auto& [n, values] : params) {
    std::sort(values.begin(), values.end());
    out += "\n" + n + ":";
    for (std::size_t i = 0; i < values.size(); ++i) out += (i ? "," : "") + values[i];
  }
  return out;
}

std::string authorization(const RequestToSign& request, const util::SecretBytes& key) {
  const std::string text = string_to_sign(request);
  util::Bytes mac = crypto::hmac_sha256(key.view(), util::as_bytes(text));
  return "SharedKey " + std::string(request.account) + ":" + base64(mac);
}

util::Result<util::SecretBytes> decode_account_key(std::string_view text) {
  util::SecretBytes out(text.size());
  std::size_t length = 0;
  if (text.empty() ||
      sodium_base642bin(out.data(), out.size(), text.data(), text.size(), " \r\n", &length, nullptr,
                        sodium_base64_VARIANT_ORIGINAL) != 0 ||
      length == 0) {
    return util::fail(util::ErrorKind::usage,
                      "the Azure account key is not valid base64 (copy it whole from the "
                      "storage account's access keys)");
  }
  return util::SecretBytes(out.view().subspan(0, length));
}

std::string base64(util::ByteView data) {
  std::string out(sodium_base64_encoded_len(data.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), data.data(), data.size(),
                    sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

std::string http_date_now() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  static constexpr const char* days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char buf[40];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday],
                tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

}  // namespace bkp::storage::azure
