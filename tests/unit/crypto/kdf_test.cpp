#include <catch2/catch.hpp>

#include <sodium.h>
#include <stdlib.h>

#include "crypto/aead.hpp"
#include "crypto/kdf.hpp"
#include "util/bytes.hpp"

using namespace bkp;
using bkp::util::ErrorKind;

namespace {

crypto::KdfParams fast_params(std::uint8_t salt_byte) {
  crypto::KdfParams p;
  p.opslimit = crypto_pwhash_OPSLIMIT_MIN;
  p.memlimit = crypto_pwhash_MEMLIMIT_MIN;
  p.salt = util::Bytes(crypto_pwhash_SALTBYTES, salt_byte);
  return p;
}

// Sets or clears an environment variable for the scope, restoring it after.
class EnvOverride {
 public:
  EnvOverride(const char* name, const char* value) : name_(name) {
    if (const char* old = ::getenv(name)) old_ = old, had_ = true;
    if (value)
      ::setenv(name, value, 1);
    else
      ::unsetenv(name);
  }
  ~EnvOverride() {
    if (had_)
      ::setenv(name_, old_.c_str(), 1);
    else
      ::unsetenv(name_);
  }
  EnvOverride(const EnvOverride&) = delete;
  EnvOverride& operator=(const EnvOverride&) = delete;

 private:
  const char* name_;
  std::string old_;
  bool had_ = false;
};

}  // namespace

TEST_CASE("argon2id is deterministic for the same salt and params", "[kdf]") {
  auto p = fast_params(7);
  auto a = crypto::derive_key("correct horse battery staple", p);
  auto b = crypto::derive_key("correct horse battery staple", p);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(a->size() == crypto::key_size);
  CHECK(util::to_hex(a->view()) == util::to_hex(b->view()));
}

TEST_CASE("argon2id output depends on salt, passphrase and params", "[kdf]") {
  auto base = crypto::derive_key("pass", fast_params(1));
  auto other_salt = crypto::derive_key("pass", fast_params(2));
  auto other_pass = crypto::derive_key("pasS", fast_params(1));
  auto more_ops = fast_params(1);
  more_ops.opslimit += 1;
  auto other_ops = crypto::derive_key("pass", more_ops);
  REQUIRE(base.ok());
  REQUIRE(other_salt.ok());
  REQUIRE(other_pass.ok());
  REQUIRE(other_ops.ok());
  const auto h = util::to_hex(base->view());
  CHECK(h != util::to_hex(other_salt->view()));
  CHECK(h != util::to_hex(other_pass->view()));
  CHECK(h != util::to_hex(other_ops->view()));
  // An empty passphrase is allowed (key files may be empty-passphrase slots).
  CHECK(crypto::derive_key("", fast_params(1)).ok());
}

TEST_CASE("argon2id known answer with libsodium's argon2id13", "[kdf]") {
  // Pins the algorithm choice: a switch to argon2i or different defaults
  // would silently lock users out of their repositories.
  auto k = crypto::derive_key("password", fast_params(0x11));
  REQUIRE(k.ok());
  unsigned char expected[crypto::key_size];
  util::Bytes salt(crypto_pwhash_SALTBYTES, 0x11);
  REQUIRE(crypto_pwhash(expected, sizeof expected, "password", 8, salt.data(),
                        crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN,
                        crypto_pwhash_ALG_ARGON2ID13) == 0);
  CHECK(util::to_hex(k->view()) == util::to_hex(util::ByteView(expected, sizeof expected)));
}

TEST_CASE("derive_key rejects hostile or malformed params", "[kdf]") {
  auto p = fast_params(1);
  p.salt.resize(8);
  auto r = crypto::derive_key("x", p);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind == ErrorKind::corrupt);
  CHECK(r.error().message.find("salt") != std::string::npos);

  p = fast_params(1);
  p.memlimit = std::uint64_t{1} << 40;
  r = crypto::derive_key("x", p);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("memlimit") != std::string::npos);
  p.memlimit = 1024;
  CHECK_FALSE(crypto::derive_key("x", p).ok());

  p = fast_params(1);
  p.opslimit = 0;
  r = crypto::derive_key("x", p);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("opslimit") != std::string::npos);
  p.opslimit = 1000000;
  CHECK_FALSE(crypto::derive_key("x", p).ok());
}

TEST_CASE("default kdf params honour BKP_TEST_FAST_KDF", "[kdf]") {
  {
    EnvOverride env("BKP_TEST_FAST_KDF", "1");
    auto p = crypto::default_kdf_params();
    CHECK(p.opslimit == crypto_pwhash_OPSLIMIT_MIN);
    CHECK(p.memlimit == crypto_pwhash_MEMLIMIT_MIN);
    CHECK(p.salt.size() == crypto_pwhash_SALTBYTES);
    auto q = crypto::default_kdf_params();
    CHECK(p.salt != q.salt);
  }
  {
    EnvOverride env("BKP_TEST_FAST_KDF", nullptr);
    auto p = crypto::default_kdf_params();
    CHECK(p.opslimit == 3);
    CHECK(p.memlimit == 64ull * 1024 * 1024);
    CHECK(p.salt.size() == 16);
  }
}
