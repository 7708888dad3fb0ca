#include "repo/keyring.hpp"

#include <cstdio>
#include <cstring>

#include "crypto/aead.hpp"
#include "util/time.hpp"

namespace bkp::repo {

using util::ErrorKind;
using util::fail;

namespace {
constexpr std::uint32_t kKeyringVersion = 1;
constexpr std::size_t kFixed = 4 + 8 + 32 + 32 + 32 + 8 + 4;
constexpr std::size_t kPerKey = 8 + 8 + 32;
}  // namespace

Keyring Keyring::create(util::ByteView config_bytes) {
  Keyring k;
  k.config_digest = crypto::sha256(config_bytes);
  k.chunk_id_key = crypto::random_secret(32);
  k.chunker_seed = crypto::random_secret(32);
  DataKey dk;
  crypto::random_fill(dk.id.data(), dk.id.size());
  dk.key = crypto::random_secret(crypto::key_size);
  dk.created_ns = util::now_ns();
  k.current = dk.id;
  k.data_keys.push_back(std::move(dk));
  return k;
}

const DataKey* Keyring::find(const KeyId& id) const {
  for (auto& k : data_keys)
    if (k.id == id) return &k;
  return nullptr;
}

const DataKey& Keyring::current_key() const { return *find(current); }

std::string Keyring::object_name() const { return keyring_object_name(generation); }

std::string keyring_object_name(std::uint64_t generation) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "keyring/%016llx", static_cast<unsigned long long>(generation));
  return buf;
}

std::optional<std::uint64_t> keyring_generation(std::string_view name) {
  constexpr std::string_view prefix = "keyring/";
  if (name.substr(0, prefix.size()) != prefix || name.size() != prefix.size() + 16) return {};
  util::Bytes raw;
  if (!util::from_hex(name.substr(prefix.size()), raw)) return {};
  std::uint64_t g = 0;
  for (auto b : raw) g = (g << 8) | b;
  return g;
}

util::SecretBytes Keyring::encode() const {
  util::SecretBytes out(kFixed + kPerKey * data_keys.size());
  std::uint8_t* p = out.data();
  auto put = [&p](const void* src, std::size_t n) {
    std::memcpy(p, src, n);
    p += n;
  };
  auto put_u32 = [&](std::uint32_t v) {
    util::Bytes b;
    util::put_u32le(b, v);
    put(b.data(), 4);
  };
  auto put_u64 = [&](std::uint64_t v) {
    util::Bytes b;
    util::put_u64le(b, v);
    put(b.data(), 8);
  };
  put_u32(kKeyringVersion);
  put_u64(generation);
  put(config_digest.data(), 32);
  put(chunk_id_key.data(), 32);
  put(chunker_seed.data(), 32);
  put(current.data(), 8);
  put_u32(static_cast<std::uint32_t>(data_keys.size()));
  for (auto& k : data_keys) {
    put(k.id.data(), 8);
    put_u64(static_cast<std::uint64_t>(k.created_ns));
    put(k.key.data(), 32);
  }
  return out;
}

util::Result<Keyring> Keyring::decode(util::ByteView in) {
  if (in.size() < kFixed) return fail(ErrorKind::corrupt, "keyring is truncated");
  const std::uint8_t* p = in.data();
  if (util::get_u32le(p) != kKeyringVersion) {
    return fail(ErrorKind::usage, "keyring format is newer than this bkp; upgrade bkp");
  }
  Keyring k;
  k.generation = util::get_u64le(p + 4);
  std::memcpy(k.config_digest.data(), p + 12, 32);
  k.chunk_id_key = util::SecretBytes(in.subspan(44, 32));
  k.chunker_seed = util::SecretBytes(in.subspan(76, 32));
  std::memcpy(k.current.data(), p + 108, 8);
  std::uint32_t n = util::get_u32le(p + 116);
  if (in.size() != kFixed + kPerKey * static_cast<std::size_t>(n)) {
    return fail(ErrorKind::corrupt, "keyring has a wrong length");
  }
  for (std::uint32_t i = 0; i < n; ++i) {
    const std::uint8_t* e = p + kFixed + kPerKey * i;
    DataKey dk;
    std::memcpy(dk.id.data(), e, 8);
    dk.created_ns = static_cast<std::int64_t>(util::get_u64le(e + 8));
    dk.key = util::SecretBytes(util::ByteView(e + 16, 32));
    k.data_keys.push_back(std::move(dk));
  }
  if (!k.find(k.current)) return fail(ErrorKind::corrupt, "keyring has no current key");
  return k;
}

}  // namespace bkp::repo
