// What the cloud backends (S3, Azure, GCS) share around their own
// protocols: the endpoint check at open, the names a listing yields, the
// size a HEAD answers, the XML answers of S3 and Azure.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <pugixml.hpp>

#include "storage/backend.hpp"
#include "storage/http_client.hpp"

namespace bkp::storage {

// `endpoint` without trailing '/', checked as the HTTP client would
// (http or https, plain http only to loopback unless allowed) and without
// a query or fragment; ErrorKind::usage naming `service` ("S3") otherwise.
util::Result<std::string> checked_endpoint(std::string endpoint, std::string_view service,
                                           const http::ClientOptions& client);

// The object name a listed `key` stands for below `prefix`; nothing for a
// key outside the prefix or a name bkp could not have written (other
// tools' files are not ours).
std::optional<std::string> listed_name(std::string_view key, std::string_view prefix);

// The object `name` with the size a HEAD answer's Content-Length gives.
util::Result<ObjectInfo> head_object_info(const http::Response& response, std::string_view name);

// The document element `root` of the XML in `response`'s body, parsed into
// `doc`; an error saying so, after `what`, when it is not there.
util::Result<pugi::xml_node> xml_answer(pugi::xml_document& doc, const http::Response& response,
                                        const char* root, std::string_view what);

}  // namespace bkp::storage
