// The storage interface: opaque named objects, nothing more. A backend never
// sees keys, snapshots or chunk ids; names are '/'-separated paths such as
// "config", "keys/<id>", "data/ab/<id>", "index/<id>", "snapshots/<id>".
// Local disk implements it now; S3, Azure and GCS will implement the same.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "util/bytes.hpp"
#include "util/result.hpp"

namespace bkp::storage {

struct ObjectInfo {
  std::string name;
  std::uint64_t size = 0;
};

// Create-only writes never replace an existing object (ErrorKind::exists).
enum class WriteMode { overwrite, create_only };

// Every method may be called from several threads at once (verify reads
// packs in parallel; uploads will run several requests in flight).
class Backend {
 public:
  virtual ~Backend() = default;

  // A human-readable location with credentials redacted, for messages.
  virtual std::string describe() const = 0;
  // "local", "s3", "azure", "gcs".
  virtual std::string_view kind() const = 0;
  // Reads worth having in flight at once. A local disk answers in
  // microseconds and the cores bound the work; an object store answers each
  // request after a round trip, so readers (restore) keep several waiting.
  virtual unsigned parallel_reads() const { return 1; }

  // Atomic: readers see the whole object or nothing, even after a crash.
  virtual util::Status put(std::string_view name, util::ByteView data, WriteMode mode) = 0;
  // ErrorKind::not_found when the object does not exist.
  virtual util::Result<util::Bytes> get(std::string_view name) = 0;
  // get() into `out`, reusing its memory: a reader of many large objects
  // (verify reads every pack) keeps one buffer instead of allocating and
  // faulting in one per object. `out` is unspecified after an error.
  virtual util::Status get_into(std::string_view name, util::Bytes& out) {
    BKP_ASSIGN(out, get(name));
    return {};
  }
  // Bytes [offset, offset+length); a range past the end is ErrorKind::corrupt
  // (a short read must never pass for data). A zero-length range is valid for
  // 0 <= offset <= size and returns no bytes; offset > size is corrupt too.
  virtual util::Result<util::Bytes> get_range(std::string_view name, std::uint64_t offset,
                                              std::uint64_t length) = 0;
  virtual util::Result<ObjectInfo> stat(std::string_view name) = 0;
  // Calls `fn` for every object whose name starts with `prefix` (a plain
  // string prefix: "data/a" matches "data/ab/x"; "" matches everything), each
  // exactly once, in no particular order; stops and returns the error if `fn`
  // fails. A prefix no valid name can start with lists nothing.
  virtual util::Status list(std::string_view prefix,
                            const std::function<util::Status(const ObjectInfo&)>& fn) = 0;
  // Removing an object that does not exist is not an error (idempotent).
  virtual util::Status remove(std::string_view name) = 0;

  // The bucket or container a cloud location names (bkp init): whether it
  // exists, and creating it. Local disk has none (directories are made as
  // objects are written): it always "exists", and creating is a usage error,
  // as it is for a backend that cannot create one.
  virtual util::Result<bool> container_exists() { return true; }
  virtual util::Status create_container();
};

// Settings for the cloud backends, from the configuration (s3.* keys).
// Empty fields fall back to the environment (AWS_* and the S3_* names of
// MISSION.md) and then to the defaults; credentials never come from the
// command line.
struct BackendOptions {
  std::string s3_endpoint;       // e.g. "http://127.0.0.1:9000"; AWS when empty
  std::string s3_region;         // default us-east-1
  std::string s3_addressing;     // "", "auto", "path" or "virtual"
  std::string s3_access_key_id;  // else AWS_ACCESS_KEY_ID / S3_ACCESS_KEY_ID
  std::string s3_secret_access_key;
  std::string s3_session_token;              // else AWS_SESSION_TOKEN
  std::uint64_t s3_multipart_threshold = 0;  // bytes; 0 means 64 MiB
  std::string s3_storage_class;              // for data/ packs; "" is the bucket default
  // S3 Object Lock on data/ packs: retain-until now + days (0: no lock),
  // mode "COMPLIANCE" (default) or "GOVERNANCE". The bucket must have
  // Object Lock enabled.
  int s3_object_lock_days = 0;
  std::string s3_object_lock_mode;
  // Azure (azure.* keys); empty fields fall back to AZURE_STORAGE_ACCOUNT,
  // AZURE_STORAGE_KEY, AZURE_STORAGE_SAS_TOKEN, then the fields of
  // AZURE_STORAGE_CONNECTION_STRING.
  std::string azure_account;
  std::string azure_endpoint;  // default https://<account>.blob.core.windows.net
  std::string azure_key;       // base64 account key (Shared Key)
  std::string azure_sas_token;
  std::string azure_access_tier;            // for data/ packs; "" is the account default
  std::uint64_t azure_block_threshold = 0;  // bytes; 0 means 64 MiB
  int azure_list_page_size = 0;             // 0 means the service's default
  // Google Cloud Storage (gcs.* keys). HMAC keys (both set, else
  // GCS_HMAC_ACCESS_KEY_ID and GCS_HMAC_SECRET) go to the XML API through
  // the S3 code; otherwise a service-account key file (else
  // GOOGLE_APPLICATION_CREDENTIALS) to the JSON API with OAuth2 tokens.
  std::string gcs_endpoint;  // default https://storage.googleapis.com
  std::string gcs_credentials_file;
  std::string gcs_hmac_access_key_id;
  std::string gcs_hmac_secret;
  std::string gcs_storage_class;  // for data/ packs; "" is the bucket default
  int gcs_list_page_size = 0;     // JSON API only; 0 means the service's default
  bool insecure_http = false;     // allow plain http to non-loopback hosts
  // Bytes per second, 0 for no limit (--limit-upload, --limit-download):
  // libcurl's per-transfer limits for the HTTP backends, a token bucket
  // shared by all threads for local disk.
  std::uint64_t limit_upload = 0;
  std::uint64_t limit_download = 0;
};

// Opens the backend for a location: "/path", "relative/path" (made absolute),
// "file:///path" (local), "s3://bucket/prefix" (when built with S3),
// "azure://container/prefix" (when built with Azure), "gs://bucket/prefix"
// (when built with GCS). Nothing
// is created or checked. ErrorKind::usage for an empty location, one it
// cannot parse, a scheme not built in, or missing cloud credentials.
util::Result<std::unique_ptr<Backend>> open_backend(std::string_view location,
                                                    const BackendOptions& options = {});

// Checks an object name: non-empty, relative, no "." or ".." segments, no
// empty segments, no NUL, and not ending in a temporary-file suffix
// (".tmp-" + 12 of [a-z0-9], see temp_name.hpp), so that every backend accepts
// the same names. Backends reject bad names with ErrorKind::usage.
bool valid_object_name(std::string_view name);
// valid_object_name(), or ErrorKind::usage saying what `action` was given.
util::Status check_object_name(std::string_view action, std::string_view name);

// "<scheme><container>/<prefix>" of the cloud backends (s3://, azure://):
// the container, and the prefix with one trailing '/' (or empty). `example`
// and `invalid_container` are the messages for a wrong scheme and a
// container name `valid_container` refuses.
struct CloudLocation {
  std::string container, prefix;
};
util::Result<CloudLocation> parse_cloud_location(std::string_view location, std::string_view scheme,
                                                 std::string_view example,
                                                 bool (*valid_container)(std::string_view),
                                                 std::string_view invalid_container);

}  // namespace bkp::storage
