#include "storage/http_range.hpp"

#include <cstdint>

namespace bkp::storage::http {

using util::ErrorKind;
using util::fail;

util::Result<util::Bytes> get_range(const RangeRequest& r) {
  const std::string what = "reading '" + std::string(r.name) + "'";
  auto past_end = [&](std::string_view detail) {
    return fail(ErrorKind::corrupt, what + ": range " + std::to_string(r.offset) + "+" +
                                        std::to_string(r.length) + " " + std::string(detail));
  };
  if (r.length > UINT64_MAX - r.offset) return past_end("overflows");
  if (r.length == 0) {
    BKP_ASSIGN(auto size, r.size());
    if (r.offset > size) return past_end("starts past the end");
    return util::Bytes{};
  }
  BKP_ASSIGN(auto response, r.fetch("bytes=" + std::to_string(r.offset) + "-" +
                                    std::to_string(r.offset + r.length - 1)));
  if (response.status == 404) return fail(ErrorKind::not_found, what + ": no such object");
  if (response.status == 416) return past_end("is past the end of the object");
  if (response.status == 200) {
    // A server that ignores Range sends the whole object: cut it here.
    if (r.offset + r.length > response.body.size())
      return past_end("is past the end of the object");
    auto first = response.body.begin() + static_cast<std::ptrdiff_t>(r.offset);
    return util::Bytes(first, first + static_cast<std::ptrdiff_t>(r.length));
  }
  if (response.status != 206) return fail(r.error(response, what));
  // A range that starts inside the object but ends past it may be answered
  // with the bytes there are (Azure does).
  if (response.body.size() != r.length) {
    return past_end("is past the end of the object (got " + std::to_string(response.body.size()) +
                    " bytes)");
  }
  return std::move(response.body);
}

}  // namespace bkp::storage::http
