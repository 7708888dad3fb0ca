// Multipart upload for objects above the threshold: initiate, upload parts
// in order, complete; any failure aborts the upload, so no invisible parts
// are left to be billed. The object appears only when complete succeeds,
// which keeps put() atomic.
#include <pugixml.hpp>
#include <sstream>

#include "storage/http_error.hpp"
#include "storage/s3.hpp"
#include "util/text.hpp"

namespace bkp::storage {

using util::ErrorKind;
using util::fail;
using util::in_quotes;

namespace {

std::string xml_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

// CompleteMultipartUpload may answer 200 and still carry an <Error> body.
bool body_is_error(const util::Bytes& body) {
  pugi::xml_document doc;
  return doc.load_buffer(body.data(), body.size()) && doc.child("Error");
}

}  // namespace

util::Status S3Backend::put_multipart(std::string_view name, util::ByteView data, WriteMode mode) {
  const std::string what = "storing " + in_quotes(name);
  const std::string key = key_of(name);
  if (mode == WriteMode::create_only) {
    // Checked again at completion by If-None-Match; this saves the upload.
    auto existing = stat(name);
    if (existing.ok()) return fail(ErrorKind::exists, what + ": object exists");
    if (existing.error().kind != ErrorKind::not_found) return existing.propagate();
  }

  Call initiate{"POST", key, {{"uploads", ""}}, {}, {}};
  add_storage_class(name, initiate.headers);
  if (locked(name)) add_object_lock(initiate.headers);
  BKP_ASSIGN(auto started, send(initiate));
  if (started.status != 200) return fail(http::response_error(started, what + ": starting upload"));
  pugi::xml_document doc;
  std::string upload_id;
  if (doc.load_buffer(started.body.data(), started.body.size())) {
    upload_id = doc.child("InitiateMultipartUploadResult").child_value("UploadId");
  }
  if (upload_id.empty()) return fail(ErrorKind::generic, what + ": no UploadId in the answer");

  auto abort = [&](util::Error error) -> util::Status {
    // Best effort: the error that made us abort is the one to report.
    (void)send({"DELETE", key, {{"uploadId", upload_id}}, {}, {}});
    return fail(std::move(error));
  };

  std::ostringstream complete;
  complete << "<CompleteMultipartUpload>";
  const std::uint64_t part_size = options_.part_size;
  int part = 0;
  for (std::uint64_t offset = 0; offset < data.size(); offset += part_size) {
    ++part;
    auto chunk = data.subspan(offset, std::min<std::uint64_t>(part_size, data.size() - offset));
    Call call{
        "PUT", key, {{"partNumber", std::to_string(part)}, {"uploadId", upload_id}}, {}, chunk};
    // S3 wants the parts of a locked object checked by Content-MD5 too.
    if (locked(name)) call.headers.emplace_back("Content-MD5", content_md5(chunk));
    auto response = send(call);
    if (!response) return abort(response.error().context(what + ": part " + std::to_string(part)));
    if (response->status != 200) {
      return abort(http::response_error(*response, what + ": part " + std::to_string(part)));
    }
    auto etag = response->header("etag");
    if (!etag) {
      return abort(util::make_error(ErrorKind::generic,
                                    what + ": part " + std::to_string(part) + " has no ETag"));
    }
    complete << "<Part><PartNumber>" << part << "</PartNumber><ETag>" << xml_escape(*etag)
             << "</ETag></Part>";
  }
  complete << "</CompleteMultipartUpload>";
  const std::string body = complete.str();

  Call finish{"POST", key, {{"uploadId", upload_id}}, {}, util::as_bytes(body)};
  finish.headers.emplace_back("Content-Type", "application/xml");
  if (mode == WriteMode::create_only) finish.headers.emplace_back("If-None-Match", "*");
  auto response = send(finish);
  if (!response) return abort(response.error().context(what + ": completing upload"));
  if (response->status == 412 && mode == WriteMode::create_only) {
    return abort(util::make_error(ErrorKind::exists, what + ": object exists"));
  }
  if (response->status != 200 || body_is_error(response->body)) {
    auto error = http::response_error(*response, what + ": completing upload");
    if (response->status == 200) error.kind = ErrorKind::transient;
    return abort(std::move(error));
  }
  return {};
}

}  // namespace bkp::storage
