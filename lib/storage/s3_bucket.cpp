// The bucket of an S3 location: HeadBucket to see whether it exists, and
// CreateBucket for bkp init --create-bucket. Outside us-east-1 AWS needs
// the region as LocationConstraint (and refuses it for us-east-1); a
// bucket for Object Lock must be created with it enabled.
#include "storage/http_error.hpp"
#include "storage/s3.hpp"

namespace bkp::storage {

using util::ErrorKind;
using util::fail;

util::Result<bool> S3Backend::container_exists() {
  BKP_ASSIGN(auto response, send({"HEAD", "", {}, {}, {}}));
  if (response.status == 200) return true;
  if (response.status == 404) return false;
  return fail(http::response_error(response, "checking bucket '" + location_.bucket + "'"));
}

util::Status S3Backend::create_container() {
  const std::string what = "creating bucket '" + location_.bucket + "'";
  std::string body;
  if (options_.region != "us-east-1" && options_.kind == "s3") {
    body =
        "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        "<LocationConstraint>" +
        options_.region + "</LocationConstraint></CreateBucketConfiguration>";
  }
  Call call{"PUT", "", {}, {}, util::as_bytes(body)};
  if (options_.object_lock_days > 0)
    call.headers.emplace_back("x-amz-bucket-object-lock-enabled", "true");
  BKP_ASSIGN(auto response, send(call));
  if (response.status == 200) return {};
  auto error = http::response_error(response, what);
  // Created by an earlier try of ours whose answer was lost: fine.
  if (http::parse_service_error(response.body).code == "BucketAlreadyOwnedByYou") return {};
  if (response.status == 409) error.kind = ErrorKind::exists;
  return fail(error);
}

}  // namespace bkp::storage
