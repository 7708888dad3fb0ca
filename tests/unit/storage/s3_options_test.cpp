// S3 options against moto's S3 (signatures checked): the storage class of
// data packs (x-amz-storage-class, seen by HEAD) and libcurl's transfer
// rate limits (4 MiB at 1 MiB/s takes about 3 s), and keys from the shared
// credentials file.
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <iostream>

#include "script_server.hpp"
#include "storage/backend.hpp"
#include "storage/s3.hpp"
#include "test_tmpdir.hpp"
#include "util/fs.hpp"

namespace bkp::test {

namespace {

using Clock = std::chrono::steady_clock;
constexpr const char* bucket = "bkp-options";
constexpr const char* locked_bucket = "bkp-locked";
constexpr std::uint64_t one_mib = std::uint64_t{1} << 20;

const ScriptServer* moto() {
  static std::string why;
  static std::optional<ScriptServer> server =
      ScriptServer::start("moto_s3.py", {bucket, std::string(locked_bucket) + ":lock"},
                          {"moto", "boto3", "werkzeug"}, why);
  if (!server) std::cout << "BKP-SKIP: S3 option tests need moto: " << why << "\n";
  return server ? &*server : nullptr;
}

storage::BackendOptions options_for(const ScriptServer& server) {
  storage::BackendOptions o;
  o.s3_endpoint = server.info()["endpoint"];
  o.s3_access_key_id = server.info()["access_key"];
  o.s3_secret_access_key = server.info()["secret_key"];
  return o;
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

util::Bytes four_mib() {
  util::Bytes data(std::size_t{4} << 20);
  for (std::size_t i = 0; i < data.size(); ++i)
    data[i] = static_cast<std::uint8_t>(i * 31 + i / 977);
  return data;
}

// The x-amz-storage-class moto reports for a stored object (absent means
// STANDARD).
std::string class_of(storage::Backend& b, const std::string& key) {
  auto* s3 = dynamic_cast<storage::S3Backend*>(&b);
  REQUIRE(s3 != nullptr);
  auto head = s3->send({"HEAD", key, {}, {}, {}});
  REQUIRE(head.ok());
  REQUIRE(head->status == 200);
  return head->header("x-amz-storage-class").value_or("STANDARD");
}

}  // namespace

TEST_CASE("s3 backend: data packs get the storage class, metadata stays STANDARD", "[s3][moto]") {
  const ScriptServer* server = moto();
  if (server == nullptr) return;
  auto o = options_for(*server);
  o.s3_storage_class = "standard_ia";  // case does not matter
  o.s3_multipart_threshold = 5 << 20;
  auto b = storage::open_backend(std::string("s3://") + bucket + "/classes", o);
  REQUIRE(b.ok());
  REQUIRE((*b)->put("data/ab/pack", util::as_bytes("pack"), storage::WriteMode::create_only).ok());
  REQUIRE((*b)->put("snapshots/s1", util::as_bytes("snap"), storage::WriteMode::create_only).ok());
  util::Bytes big((6 << 20) + 5, 7);  // multipart: the class goes on the initiate
  REQUIRE((*b)->put("data/cd/big", big, storage::WriteMode::create_only).ok());
  CHECK(class_of(**b, "classes/data/ab/pack") == "STANDARD_IA");
  CHECK(class_of(**b, "classes/data/cd/big") == "STANDARD_IA");
  CHECK(class_of(**b, "classes/snapshots/s1") == "STANDARD");

  o.s3_storage_class = "GLACIER";
  auto refused = storage::open_backend(std::string("s3://") + bucket + "/classes", o);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().kind == util::ErrorKind::usage);
  CHECK(refused.error().message.find("GLACIER and DEEP_ARCHIVE") != std::string::npos);
}

TEST_CASE("s3 backend: upload and download limits through libcurl", "[rate][s3][moto]") {
  const ScriptServer* server = moto();
  if (server == nullptr) return;
  auto o = options_for(*server);
  o.limit_upload = one_mib;
  o.limit_download = one_mib;
  auto b = storage::open_backend(std::string("s3://") + bucket + "/limits", o);
  REQUIRE(b.ok());
  auto data = four_mib();
  auto start = Clock::now();
  REQUIRE((*b)->put("data/four", data, storage::WriteMode::create_only).ok());
  double up = seconds_since(start);
  CHECK(up >= 2.9);
  CHECK(up < 10.0);
  start = Clock::now();
  auto got = (*b)->get("data/four");
  REQUIRE(got.ok());
  CHECK(*got == data);
  CHECK(seconds_since(start) >= 2.9);
}

}  // namespace bkp::test

namespace bkp::test {

TEST_CASE("s3 backend: keys from the shared credentials file, after env and config",
          "[s3][moto][credentials]") {
  const ScriptServer* server = moto();
  if (server == nullptr) return;
  TempDir dir;
  auto path = dir.path() / "credentials";
  const std::string id = server->info()["access_key"];
  const std::string secret = server->info()["secret_key"];
  const std::string text =
      "[default]\naws_access_key_id = AKIAWRONG0000000000\n"
      "aws_secret_access_key = wrong\n\n[bkp]\naws_access_key_id = " +
      id + "\naws_secret_access_key = " + secret + "\n";
  REQUIRE(util::write_file_atomic(path, util::as_bytes(text), 0600).ok());
  for (const char* v : {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "S3_ACCESS_KEY_ID",
                        "S3_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"}) {
    ::unsetenv(v);
  }
  ::setenv("AWS_SHARED_CREDENTIALS_FILE", path.c_str(), 1);
  ::setenv("AWS_PROFILE", "bkp", 1);
  storage::BackendOptions o;
  o.s3_endpoint = server->info()["endpoint"];
  auto b = storage::open_backend(std::string("s3://") + bucket + "/shared", o);
  REQUIRE(b.ok());
  REQUIRE((*b)->put("config", util::as_bytes("x"), storage::WriteMode::create_only).ok());
  REQUIRE((*b)->get("config").ok());

  // The default profile's keys are wrong: moto refuses them.
  ::unsetenv("AWS_PROFILE");
  auto wrong = storage::open_backend(std::string("s3://") + bucket + "/shared", o);
  REQUIRE(wrong.ok());
  auto refused = (*wrong)->get("config");
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().kind == util::ErrorKind::auth);

  // Keys in the configuration win over the file.
  o.s3_access_key_id = id;
  o.s3_secret_access_key = secret;
  auto configured = storage::open_backend(std::string("s3://") + bucket + "/shared", o);
  REQUIRE(configured.ok());
  CHECK((*configured)->get("config").ok());
  ::unsetenv("AWS_SHARED_CREDENTIALS_FILE");
}

}  // namespace bkp::test

namespace bkp::test {

TEST_CASE("s3 backend: Object Lock keeps packs from being deleted", "[s3][moto][lock]") {
  const ScriptServer* server = moto();
  if (server == nullptr) return;
  auto o = options_for(*server);
  o.s3_object_lock_days = 2;
  o.s3_multipart_threshold = 5 << 20;
  auto opened = storage::open_backend(std::string("s3://") + locked_bucket + "/repo", o);
  REQUIRE(opened.ok());
  auto& b = **opened;
  auto* s3 = dynamic_cast<storage::S3Backend*>(&b);
  REQUIRE(s3 != nullptr);
  REQUIRE(b.put("data/ab/pack", util::as_bytes("pack"), storage::WriteMode::create_only).ok());
  util::Bytes big((6 << 20) + 9, 3);
  REQUIRE(b.put("data/cd/big", big, storage::WriteMode::create_only).ok());
  REQUIRE(b.put("snapshots/s1", util::as_bytes("snap"), storage::WriteMode::create_only).ok());

  // Only the single-PUT pack is checked: moto 5.2.1 ignores the lock
  // headers of CreateMultipartUpload (AWS applies them), so the multipart
  // one above shows only that its signed upload with Content-MD5 parts is
  // accepted. Packs (16 MiB) stay under the 64 MiB multipart threshold.
  for (const char* key : {"repo/data/ab/pack"}) {
    INFO(key);
    auto head = s3->send({"HEAD", key, {}, {}, {}});
    REQUIRE(head.ok());
    REQUIRE(head->status == 200);
    CHECK(head->header("x-amz-object-lock-mode").value_or("") == "COMPLIANCE");
    auto until = head->header("x-amz-object-lock-retain-until-date").value_or("");
    CHECK(until.size() >= 10);
    auto version = head->header("x-amz-version-id");
    REQUIRE(version);
    // Deleting the locked version is refused, whoever asks.
    auto del = s3->send({"DELETE", key, {{"versionId", *version}}, {}, {}});
    REQUIRE(del.ok());
    CHECK(del->status == 403);
    // A plain delete (what prune sends) only hides it behind a marker.
    REQUIRE(b.remove(std::string(key).substr(5)).ok());
    auto old = s3->send({"GET", key, {{"versionId", *version}}, {}, {}});
    REQUIRE(old.ok());
    CHECK(old->status == 200);
  }
  // Metadata is not locked: its version can be deleted.
  auto head = s3->send({"HEAD", "repo/snapshots/s1", {}, {}, {}});
  REQUIRE(head.ok());
  CHECK_FALSE(head->header("x-amz-object-lock-mode"));
  auto version = head->header("x-amz-version-id");
  REQUIRE(version);
  auto del = s3->send({"DELETE", "repo/snapshots/s1", {{"versionId", *version}}, {}, {}});
  REQUIRE(del.ok());
  CHECK(del->status == 204);

  o.s3_object_lock_mode = "forever";
  auto bad = storage::open_backend(std::string("s3://") + locked_bucket + "/repo", o);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().kind == util::ErrorKind::usage);
}

}  // namespace bkp::test
