// A ranged GET with the checks every HTTP backend needs: HTTP has no empty
// range (the object's size decides), a server may ignore Range and send the
// whole object, and one may send fewer bytes than asked for when the range
// runs past the end. A short read must never pass for data.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "storage/http_client.hpp"
#include "util/result.hpp"

namespace bkp::storage::http {

struct RangeRequest {
  std::string_view name;  // the object, for messages
  std::uint64_t offset = 0, length = 0;
  // The object's size (for an empty range).
  std::function<util::Result<std::uint64_t>()> size;
  // Sends the GET with this value ("bytes=A-B") in the backend's range header.
  std::function<util::Result<Response>(const std::string& range)> fetch;
  // The backend's error for an answer that is neither data nor 404/416.
  std::function<util::Error(const Response&, const std::string& what)> error;
};

util::Result<util::Bytes> get_range(const RangeRequest& request);

}  // namespace bkp::storage::http
