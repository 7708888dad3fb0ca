#include <catch2/catch.hpp>

#include <cstdlib>

#include "config/config.hpp"
#include "test_tmpdir.hpp"
#include "util/fs.hpp"

using namespace bkp;
using namespace bkp::config;

namespace {
struct EnvGuard {
  std::string name;
  EnvGuard(const char* n, const char* v) : name(n) { ::setenv(n, v, 1); }
  ~EnvGuard() { ::unsetenv(name.c_str()); }
};
std::filesystem::path write(const test::TempDir& d, const char* text) {
  auto p = d.path() / "bkp.toml";
  REQUIRE(util::write_file_atomic(p, util::as_bytes(text)).ok());
  return p;
}
}  // namespace

TEST_CASE("defaults, file, environment: later wins and origin is kept", "[config]") {
  test::TempDir d;
  auto file = write(d, "repository = \"/srv/from-file\"\nprogress = false\n");
  {
    auto c = Config::load(file);
    REQUIRE(c.ok());
    CHECK(c->get("repository") == "/srv/from-file");
    CHECK(c->find("repository")->origin == Origin::config_file);
    CHECK(c->find("compression")->origin == Origin::default_value);
    CHECK_FALSE(c->get_bool("progress"));
  }
  EnvGuard env("BKP_REPOSITORY", "/srv/from-env");
  auto c = Config::load(file);
  REQUIRE(c.ok());
  CHECK(c->get("repository") == "/srv/from-env");
  CHECK(c->find("repository")->origin == Origin::environment);
  CHECK(c->find("repository")->source == "BKP_REPOSITORY");
}

TEST_CASE("mission aliases map onto bkp keys", "[config]") {
  EnvGuard a("BACKUP_COMPRESSION_ENABLED", "false");
  EnvGuard b("ENCRYPTION_ALGORITHM", "aes-256-gcm");
  auto c = Config::load(std::nullopt);
  REQUIRE(c.ok());
  CHECK(c->get("compression") == "none");
  CHECK(c->find("encryption.algorithm")->source == "ENCRYPTION_ALGORITHM");
}

TEST_CASE("BACKUP_RETENTION_DAYS is retention.keep_within in days", "[config]") {
  {
    EnvGuard d("BACKUP_RETENTION_DAYS", "30");
    auto c = Config::load(std::nullopt);
    REQUIRE(c.ok());
    CHECK(c->get("retention.keep_within") == "30d");
  }
  {
    EnvGuard d("BACKUP_RETENTION_DAYS", "a month");
    auto c = Config::load(std::nullopt);
    REQUIRE_FALSE(c.ok());
    CHECK(c.error().kind == util::ErrorKind::usage);
    CHECK(c.error().message.find("BACKUP_RETENTION_DAYS") != std::string::npos);
  }
}

TEST_CASE("bad configuration is a usage error that names the problem", "[config]") {
  test::TempDir d;
  SECTION("unknown key") {
    auto c = Config::load(write(d, "reposit = \"x\"\n"));
    REQUIRE_FALSE(c.ok());
    CHECK(c.error().kind == util::ErrorKind::usage);
    CHECK(c.error().message.find("unknown key 'reposit'") != std::string::npos);
  }
  SECTION("syntax error with line") {
    auto c = Config::load(write(d, "repository = \n"));
    REQUIRE_FALSE(c.ok());
    CHECK(c.error().message.find("line 1") != std::string::npos);
  }
  SECTION("wrong type") {
    auto c = Config::load(write(d, "progress = \"maybe\"\n"));
    REQUIRE_FALSE(c.ok());
    CHECK(c.error().message.find("'progress' must be true or false") != std::string::npos);
  }
  SECTION("missing explicit file") {
    auto c = Config::load(d.path() / "nope.toml");
    REQUIRE_FALSE(c.ok());
    CHECK(c.error().kind == util::ErrorKind::usage);
  }
  SECTION("bad boolean in environment") {
    EnvGuard e("BACKUP_COMPRESSION_ENABLED", "perhaps");
    CHECK_FALSE(Config::load(std::nullopt).ok());
  }
}

TEST_CASE("redaction hides credentials in URLs", "[config]") {
  CHECK(redact_url("s3://bucket/prefix") == "s3://bucket/prefix");
  CHECK(redact_url("https://user:pa55@host/x") == "https://user:***@host/x");
  CHECK(redact_url("https://a.blob/c?sv=1&sig=abc%2F&se=2") ==
        "https://a.blob/c?sv=1&sig=***&se=2");
  KeyInfo secret{"k", "", "", ValueType::string, "", "", Sensitivity::secret};
  CHECK(redact(secret, "topsecret") == "<redacted>");
}

TEST_CASE("every key has help, an environment name and a known type", "[config]") {
  for (auto& k : all_keys()) {
    INFO(k.key);
    CHECK_FALSE(k.help.empty());
    // Patterns (one key per source) have no variable: a name cannot be one.
    CHECK(k.env.substr(0, 4) == (is_pattern(k) ? "" : "BKP_"));
    CHECK_FALSE(type_name(k.type).empty());
  }
  CHECK(find_key("repository") != nullptr);
  CHECK(find_key("nonexistent") == nullptr);
}

TEST_CASE("per-source retention keys: any name, dots and colons included", "[config]") {
  auto* k = find_key("retention.source.files:/srv/a.b.keep_last");
  REQUIRE(k != nullptr);
  CHECK(k->key == "retention.source.<name>.keep_last");
  CHECK(pattern_name(*k, "retention.source.files:/srv/a.b.keep_last") == "files:/srv/a.b");
  CHECK(find_key("retention.source..keep_last") == nullptr);  // no name
  CHECK(find_key("retention.source.db.keep_forever") == nullptr);

  test::TempDir d;
  auto file = write(d,
                    "[retention]\nkeep_last = 9\n"
                    "[retention.source.\"files:/srv/a.b\"]\nkeep_daily = 7\nkeep_within = \"30d\"\n"
                    "[retention.source.db1]\nkeep_last = 2\n");
  auto c = Config::load(file);
  REQUIRE(c.ok());
  CHECK(c->get("retention.keep_last") == "9");
  CHECK(c->get("retention.source.files:/srv/a.b.keep_daily") == "7");
  CHECK(c->get("retention.source.files:/srv/a.b.keep_within") == "30d");
  CHECK(c->get("retention.source.db1.keep_last") == "2");
  CHECK(c->find("retention.source.db1.keep_last")->origin == Origin::config_file);

  auto bad = write(d, "[retention.source.db1]\nkeep_last = \"many\"\n");
  auto r = Config::load(bad);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("retention.source.db1.keep_last") != std::string::npos);
  bad = write(d, "[retention.source.db1]\nkeep_sometimes = 1\n");
  r = Config::load(bad);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("unknown key") != std::string::npos);
}
