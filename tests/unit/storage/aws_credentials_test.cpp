// The AWS shared credentials file: parsing, profiles, the permission check,
// and (in s3_options_test.cpp) requests signed with its keys against moto.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <cstdlib>

#include "storage/aws_credentials.hpp"
#include "test_tmpdir.hpp"
#include "util/fs.hpp"

namespace bkp::test {

namespace {

constexpr std::string_view sample = R"(# comment
[default]
aws_access_key_id = AKIADEFAULT
aws_secret_access_key = default-secret

; another comment
[ backup ]
aws_access_key_id=AKIABACKUP
aws_secret_access_key=backup-secret
aws_session_token = token-value
[broken]
aws_access_key_id = AKIABROKEN
)";

}  // namespace

TEST_CASE("aws credentials file: profiles, tokens and missing keys", "[s3][credentials]") {
  auto def = storage::parse_shared_credentials(sample, "default", "'f'");
  REQUIRE(def.ok());
  REQUIRE(def->has_value());
  CHECK((*def)->access_key_id == "AKIADEFAULT");
  CHECK((*def)->secret_access_key.chars() == "default-secret");
  CHECK((*def)->session_token.empty());

  auto named = storage::parse_shared_credentials(sample, "backup", "'f'");
  REQUIRE(named.ok());
  REQUIRE(named->has_value());
  CHECK((*named)->access_key_id == "AKIABACKUP");
  CHECK((*named)->secret_access_key.chars() == "backup-secret");
  CHECK((*named)->session_token == "token-value");

  auto none = storage::parse_shared_credentials(sample, "other", "'f'");
  REQUIRE(none.ok());
  CHECK_FALSE(none->has_value());

  auto broken = storage::parse_shared_credentials(sample, "broken", "'f'");
  REQUIRE_FALSE(broken.ok());
  CHECK(broken.error().kind == util::ErrorKind::usage);
  CHECK(broken.error().message.find("AKIABROKEN") == std::string::npos);
}

TEST_CASE("aws credentials file: location, AWS_PROFILE and permissions", "[s3][credentials]") {
  TempDir dir;
  auto path = dir.path() / "credentials";
  REQUIRE(util::write_file_atomic(path, util::as_bytes(sample), 0600).ok());
  ::setenv("AWS_SHARED_CREDENTIALS_FILE", path.c_str(), 1);
  ::unsetenv("AWS_PROFILE");
  auto def = storage::read_shared_credentials();
  REQUIRE(def.ok());
  REQUIRE(def->has_value());
  CHECK((*def)->access_key_id == "AKIADEFAULT");

  ::setenv("AWS_PROFILE", "backup", 1);
  auto named = storage::read_shared_credentials();
  REQUIRE(named.ok());
  REQUIRE(named->has_value());
  CHECK((*named)->session_token == "token-value");

  ::setenv("AWS_PROFILE", "nope", 1);
  auto missing = storage::read_shared_credentials();
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message.find("no profile 'nope'") != std::string::npos);
  ::unsetenv("AWS_PROFILE");

  ::chmod(path.c_str(), 0640);
  auto loose = storage::read_shared_credentials();
  REQUIRE_FALSE(loose.ok());
  CHECK(loose.error().kind == util::ErrorKind::usage);
  CHECK(loose.error().message.find("chmod 600") != std::string::npos);

  // No file and no profile asked for: nothing, not an error.
  ::setenv("AWS_SHARED_CREDENTIALS_FILE", (dir.path() / "absent").c_str(), 1);
  auto absent = storage::read_shared_credentials();
  REQUIRE(absent.ok());
  CHECK_FALSE(absent->has_value());
  ::unsetenv("AWS_SHARED_CREDENTIALS_FILE");
}

}  // namespace bkp::test
