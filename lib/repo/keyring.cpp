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
constexpr std::uint32_t kKeyringVersionWriter = 2;
constexpr std::uint32_t kKeyringVersionDomains = 3;
constexpr std::size_t kFixed = 4 + 8 + 32 + 32 + 32 + 8 + 4;
constexpr std::size_t kPerKey = 8 + 8 + 32;
constexpr std::size_t kWriterTail = 32 + 32 + 8;
constexpr std::uint32_t kWriterKeyringVersion = 1;
constexpr std::size_t kWriterSize = 4 + 8 + 32 + 32 + 32 + 32 + 8 + 8 + 32;
constexpr std::size_t kSessionPlain = 8 + 8 + 32;

DataKey random_data_key() {
  DataKey dk;
  crypto::random_fill(dk.id.data(), dk.id.size());
  dk.key = crypto::random_secret(crypto::key_size);
  dk.created_ns = util::now_ns();
  return dk;
}
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

const DataKey& Keyring::index_sealing_key() const {
  if (box) {
    if (const DataKey* k = find(index_key)) return *k;
  }
  return current_key();
}

bool valid_domain_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

const KeyDomain* Keyring::find_domain(std::string_view name) const {
  for (auto& d : domains)
    if (d.name == name) return &d;
  return nullptr;
}

const KeyDomain* Keyring::domain_of(const KeyId& data_key) const {
  for (auto& d : domains)
    if (d.data_key == data_key) return &d;
  return nullptr;
}

const ShreddedDomain* Keyring::shredded_key(const KeyId& data_key) const {
  for (auto& d : shredded)
    if (d.data_key == data_key) return &d;
  return nullptr;
}

const KeyDomain& Keyring::add_domain(const std::string& name) {
  KeyDomain d;
  d.name = name;
  d.chunk_id_key = crypto::random_secret(32);
  d.chunker_seed = crypto::random_secret(32);
  DataKey dk = random_data_key();
  d.data_key = dk.id;
  data_keys.push_back(std::move(dk));
  domains.push_back(std::move(d));
  return domains.back();
}

void Keyring::add_writer_keys() {
  box = crypto::generate_box_keypair();
  DataKey dk = random_data_key();
  index_key = dk.id;
  data_keys.push_back(std::move(dk));
}

util::SecretBytes Keyring::encode() const {
  bool v3 = !domains.empty() || !shredded.empty();
  std::size_t size = kFixed + kPerKey * data_keys.size() + (box ? kWriterTail : 0);
  if (v3) {
    size += 1 + 4 + 4;
    for (auto& d : domains) size += 1 + d.name.size() + 32 + 32 + 8;
    for (auto& d : shredded) size += 1 + d.name.size() + 8 + 8;
  }
  util::SecretBytes out(size);
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
  put_u32(v3 ? kKeyringVersionDomains : box ? kKeyringVersionWriter : kKeyringVersion);
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
  if (v3) {
    std::uint8_t flag = box ? 1 : 0;
    put(&flag, 1);
  }
  if (box) {
    put(box->public_key.data(), 32);
    put(box->secret_key.data(), 32);
    put(index_key.data(), 8);
  }
  if (v3) {
    auto put_name = [&](const std::string& name) {
      auto len = static_cast<std::uint8_t>(name.size());
      put(&len, 1);
      put(name.data(), name.size());
    };
    put_u32(static_cast<std::uint32_t>(domains.size()));
    for (auto& d : domains) {
      put_name(d.name);
      put(d.chunk_id_key.data(), 32);
      put(d.chunker_seed.data(), 32);
      put(d.data_key.data(), 8);
    }
    put_u32(static_cast<std::uint32_t>(shredded.size()));
    for (auto& d : shredded) {
      put_name(d.name);
      put(d.data_key.data(), 8);
      put_u64(static_cast<std::uint64_t>(d.shredded_ns));
    }
  }
  return out;
}

util::Result<Keyring> Keyring::decode(util::ByteView in) {
  if (in.size() < kFixed) return fail(ErrorKind::corrupt, "keyring is truncated");
  const std::uint8_t* p = in.data();
  auto version = util::get_u32le(p);
  if (version != kKeyringVersion && version != kKeyringVersionWriter &&
      version != kKeyringVersionDomains) {
    return fail(ErrorKind::usage, "keyring format is newer than this bkp; upgrade bkp");
  }
  Keyring k;
  k.generation = util::get_u64le(p + 4);
  std::memcpy(k.config_digest.data(), p + 12, 32);
  k.chunk_id_key = util::SecretBytes(in.subspan(44, 32));
  k.chunker_seed = util::SecretBytes(in.subspan(76, 32));
  std::memcpy(k.current.data(), p + 108, 8);
  std::uint32_t n = util::get_u32le(p + 116);
  std::size_t keys_end = kFixed + kPerKey * static_cast<std::size_t>(n);
  if (in.size() < keys_end) return fail(ErrorKind::corrupt, "keyring has a wrong length");
  std::size_t tail = version == kKeyringVersionWriter ? kWriterTail : 0;
  if (version == kKeyringVersionDomains) {
    if (in.size() < keys_end + 1 || p[keys_end] > 1)
      return fail(ErrorKind::corrupt, "keyring has a wrong length");
    tail = 1 + (p[keys_end] ? kWriterTail : 0);
  } else if (in.size() != keys_end + tail) {
    return fail(ErrorKind::corrupt, "keyring has a wrong length");
  }
  if (in.size() < keys_end + tail) return fail(ErrorKind::corrupt, "keyring has a wrong length");
  for (std::uint32_t i = 0; i < n; ++i) {
    const std::uint8_t* e = p + kFixed + kPerKey * i;
    DataKey dk;
    std::memcpy(dk.id.data(), e, 8);
    dk.created_ns = static_cast<std::int64_t>(util::get_u64le(e + 8));
    dk.key = util::SecretBytes(util::ByteView(e + 16, 32));
    k.data_keys.push_back(std::move(dk));
  }
  if (!k.find(k.current)) return fail(ErrorKind::corrupt, "keyring has no current key");
  bool has_box =
      version == kKeyringVersionWriter || (version == kKeyringVersionDomains && p[keys_end] == 1);
  if (has_box) {
    const std::uint8_t* t = p + keys_end + (version == kKeyringVersionDomains ? 1 : 0);
    crypto::BoxKeyPair box;
    box.public_key.assign(t, t + 32);
    box.secret_key = util::SecretBytes(util::ByteView(t + 32, 32));
    k.box = std::move(box);
    std::memcpy(k.index_key.data(), t + 64, 8);
    if (!k.find(k.index_key)) return fail(ErrorKind::corrupt, "keyring has no index key");
  }
  if (version == kKeyringVersionDomains) {
    std::size_t at = keys_end + tail;
    auto need = [&](std::size_t n_bytes) { return in.size() - at >= n_bytes; };
    auto get_name = [&](std::string& name) {
      if (!need(1)) return false;
      std::size_t len = p[at++];
      if (!need(len)) return false;
      name.assign(reinterpret_cast<const char*>(p + at), len);
      at += len;
      return valid_domain_name(name);
    };
    auto bad = [] { return fail(ErrorKind::corrupt, "keyring has a damaged domain list"); };
    if (!need(4)) return bad();
    std::uint32_t nd = util::get_u32le(p + at);
    at += 4;
    for (std::uint32_t i = 0; i < nd; ++i) {
      KeyDomain d;
      if (!get_name(d.name) || !need(72)) return bad();
      d.chunk_id_key = util::SecretBytes(in.subspan(at, 32));
      d.chunker_seed = util::SecretBytes(in.subspan(at + 32, 32));
      std::memcpy(d.data_key.data(), p + at + 64, 8);
      at += 72;
      if (!k.find(d.data_key) || k.find_domain(d.name)) return bad();
      k.domains.push_back(std::move(d));
    }
    if (!need(4)) return bad();
    std::uint32_t ns = util::get_u32le(p + at);
    at += 4;
    for (std::uint32_t i = 0; i < ns; ++i) {
      ShreddedDomain d;
      if (!get_name(d.name) || !need(16)) return bad();
      std::memcpy(d.data_key.data(), p + at, 8);
      d.shredded_ns = static_cast<std::int64_t>(util::get_u64le(p + at + 8));
      at += 16;
      k.shredded.push_back(std::move(d));
    }
    if (at != in.size()) return fail(ErrorKind::corrupt, "keyring has a wrong length");
    // bkp writes version 3 only when there are domains or shredded ones
    // (found by fuzzing: an empty version 3 encoded back as version 1/2).
    if (k.domains.empty() && k.shredded.empty()) return bad();
    if (k.domain_of(k.current))
      return fail(ErrorKind::corrupt, "keyring's current key belongs to a key domain");
  }
  return k;
}

WriterKeyring WriterKeyring::from(const Keyring& k) {
  WriterKeyring w;
  w.generation = k.generation;
  w.config_digest = k.config_digest;
  w.chunk_id_key = k.chunk_id_key;
  w.chunker_seed = k.chunker_seed;
  w.box_public_key = k.box->public_key;
  w.index_key = *k.find(k.index_key);
  return w;
}

Keyring WriterKeyring::session_keyring(DataKey session) const {
  Keyring k;
  k.generation = generation;
  k.config_digest = config_digest;
  k.chunk_id_key = chunk_id_key;
  k.chunker_seed = chunker_seed;
  k.box = crypto::BoxKeyPair{box_public_key, {}};
  k.index_key = index_key.id;
  k.current = session.id;
  k.data_keys.push_back(index_key);
  k.data_keys.push_back(std::move(session));
  return k;
}

util::SecretBytes WriterKeyring::encode() const {
  util::Bytes b;
  util::put_u32le(b, kWriterKeyringVersion);
  util::put_u64le(b, generation);
  util::append(b, config_digest);
  util::append(b, chunk_id_key.view());
  util::append(b, chunker_seed.view());
  util::append(b, box_public_key);
  util::append(b, index_key.id);
  util::put_u64le(b, static_cast<std::uint64_t>(index_key.created_ns));
  util::append(b, index_key.key.view());
  util::SecretBytes out(b);
  util::wipe(b.data(), b.size());
  return out;
}

util::Result<WriterKeyring> WriterKeyring::decode(util::ByteView in) {
  if (in.size() < 4) return fail(ErrorKind::corrupt, "writer keyring is truncated");
  if (util::get_u32le(in.data()) != kWriterKeyringVersion) {
    return fail(ErrorKind::usage, "writer keyring format is newer than this bkp; upgrade bkp");
  }
  if (in.size() != kWriterSize)
    return fail(ErrorKind::corrupt, "writer keyring has a wrong length");
  const std::uint8_t* p = in.data();
  WriterKeyring w;
  w.generation = util::get_u64le(p + 4);
  std::memcpy(w.config_digest.data(), p + 12, 32);
  w.chunk_id_key = util::SecretBytes(in.subspan(44, 32));
  w.chunker_seed = util::SecretBytes(in.subspan(76, 32));
  w.box_public_key.assign(p + 108, p + 140);
  std::memcpy(w.index_key.id.data(), p + 140, 8);
  w.index_key.created_ns = static_cast<std::int64_t>(util::get_u64le(p + 148));
  w.index_key.key = util::SecretBytes(in.subspan(156, 32));
  return w;
}

std::string session_object_name(const KeyId& id) { return "sessions/" + util::to_hex(id); }

util::Bytes seal_session_key(const DataKey& key, util::ByteView box_public_key) {
  util::SecretBytes plain(kSessionPlain);
  std::memcpy(plain.data(), key.id.data(), 8);
  util::Bytes created;
  util::put_u64le(created, static_cast<std::uint64_t>(key.created_ns));
  std::memcpy(plain.data() + 8, created.data(), 8);
  std::memcpy(plain.data() + 16, key.key.data(), 32);
  return crypto::box_seal(box_public_key, plain.view());
}

util::Result<DataKey> open_session_key(const crypto::BoxKeyPair& box, const KeyId& expected,
                                       util::ByteView sealed) {
  auto plain = crypto::box_open(box, sealed);
  if (!plain) return fail(ErrorKind::verification, "session key does not open");
  if (plain->size() != kSessionPlain)
    return fail(ErrorKind::corrupt, "session key has a wrong length");
  DataKey dk;
  std::memcpy(dk.id.data(), plain->data(), 8);
  if (dk.id != expected) return fail(ErrorKind::verification, "session key names another key id");
  dk.created_ns = static_cast<std::int64_t>(util::get_u64le(plain->data() + 8));
  dk.key = util::SecretBytes(plain->view().subspan(16, 32));
  return dk;
}

}  // namespace bkp::repo
