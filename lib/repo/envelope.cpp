#include "repo/envelope.hpp"

#include <cstring>

#include "crypto/aead.hpp"

namespace bkp::repo {

using util::ErrorKind;
using util::fail;

namespace {

constexpr std::uint8_t kMagic[4] = {'B', 'K', 'P', 0x01};

void put_prefix(util::Bytes& out, ObjectType type, const KeyId& key_id) {
  out.insert(out.end(), kMagic, kMagic + 4);
  out.push_back(static_cast<std::uint8_t>(type));
  out.insert(out.end(), key_id.begin(), key_id.end());
}

util::Bytes associated_data(ObjectType type, const KeyId& key_id, util::ByteView binding) {
  util::Bytes ad;
  ad.reserve(envelope_prefix_size + binding.size());
  put_prefix(ad, type, key_id);
  util::append(ad, binding);
  return ad;
}

}  // namespace

void seal_object_append(ObjectType type, const KeyId& key_id, const util::SecretBytes& key,
                        util::ByteView plaintext, util::ByteView binding, util::Bytes& out) {
  seal_object_append_pieces(type, key_id, key, std::span<const util::ByteView>(&plaintext, 1),
                            binding, out);
}

void seal_object_append_pieces(ObjectType type, const KeyId& key_id, const util::SecretBytes& key,
                               std::span<const util::ByteView> plaintext, util::ByteView binding,
                               util::Bytes& out) {
  put_prefix(out, type, key_id);
  crypto::seal_append_pieces(key, plaintext, associated_data(type, key_id, binding), out);
}

util::Bytes seal_object(ObjectType type, const KeyId& key_id, const util::SecretBytes& key,
                        util::ByteView plaintext, util::ByteView binding) {
  util::Bytes out;
  out.reserve(envelope_overhead + plaintext.size());
  seal_object_append(type, key_id, key, plaintext, binding, out);
  return out;
}

util::Result<EnvelopeHeader> peek_envelope(util::ByteView sealed) {
  if (sealed.size() < envelope_overhead || std::memcmp(sealed.data(), kMagic, 3) != 0) {
    return fail(ErrorKind::corrupt, "not a bkp object");
  }
  if (sealed[3] != kMagic[3]) {
    return fail(ErrorKind::usage, "object format " + std::to_string(sealed[3]) +
                                      " is newer than this bkp understands; upgrade bkp");
  }
  EnvelopeHeader h{};
  h.type = static_cast<ObjectType>(sealed[4]);
  std::memcpy(h.key_id.data(), sealed.data() + 5, h.key_id.size());
  return h;
}

util::Result<util::Bytes> open_object(ObjectType type, const util::SecretBytes& key,
                                      util::ByteView sealed, util::ByteView binding) {
  BKP_ASSIGN(auto header, peek_envelope(sealed));
  if (header.type != type) {
    return fail(ErrorKind::verification,
                "object has type " + std::to_string(static_cast<int>(header.type)) + ", expected " +
                    std::to_string(static_cast<int>(type)));
  }
  auto ad = associated_data(type, header.key_id, binding);
  auto opened = crypto::open(key, sealed.subspan(envelope_prefix_size), ad);
  if (!opened) return fail(ErrorKind::verification, "authentication failed");
  return std::move(*opened);
}

}  // namespace bkp::repo
