#include "repo/pack.hpp"

#include <cstring>

#include "crypto/hash.hpp"

namespace bkp::repo {

using util::ErrorKind;
using util::fail;

namespace {
constexpr std::uint8_t kPackHeaderVersion = 1;
constexpr std::size_t kEntrySize = 1 + 32 + 4 + 4 + 4;
const util::Bytes kHeaderBinding = util::to_bytes("bkp pack header");
}  // namespace

std::string pack_object_name(const PackId& id) {
  auto hex = util::to_hex(id);
  return "data/" + hex.substr(0, 2) + "/" + hex;
}

std::optional<PackId> parse_pack_name(std::string_view name) {
  if (name.size() != 5 + 3 + 64 || name.substr(0, 5) != "data/" || name[7] != '/') return {};
  util::Bytes raw;
  if (!util::from_hex(name.substr(8), raw) || name.substr(5, 2) != name.substr(8, 2)) return {};
  PackId id;
  std::memcpy(id.data(), raw.data(), 32);
  return id;
}

util::Bytes encode_pack_entries(const std::vector<PackHeaderEntry>& entries) {
  util::Bytes out;
  out.reserve(4 + entries.size() * kEntrySize);
  util::put_u32le(out, static_cast<std::uint32_t>(entries.size()));
  for (auto& e : entries) {
    out.push_back(static_cast<std::uint8_t>(e.type));
    out.insert(out.end(), e.id.begin(), e.id.end());
    util::put_u32le(out, e.offset);
    util::put_u32le(out, e.length);
    util::put_u32le(out, e.raw_length);
  }
  return out;
}

util::Result<std::vector<PackHeaderEntry>> decode_pack_entries(util::ByteView in,
                                                               std::size_t& used) {
  if (in.size() < 4) return fail(ErrorKind::corrupt, "blob list is truncated");
  std::uint32_t n = util::get_u32le(in.data());
  if ((in.size() - 4) / kEntrySize < n) return fail(ErrorKind::corrupt, "blob list is truncated");
  std::vector<PackHeaderEntry> out(n);
  const std::uint8_t* p = in.data() + 4;
  for (auto& e : out) {
    if (p[0] > 1) return fail(ErrorKind::corrupt, "unknown blob type");
    e.type = static_cast<BlobType>(p[0]);
    std::memcpy(e.id.data(), p + 1, 32);
    e.offset = util::get_u32le(p + 33);
    e.length = util::get_u32le(p + 37);
    e.raw_length = util::get_u32le(p + 41);
    p += kEntrySize;
  }
  used = 4 + n * kEntrySize;
  return out;
}

void PackWriter::add(BlobType type, const BlobId& id, util::ByteView sealed,
                     std::uint32_t raw_length) {
  entries_.push_back({type, id, static_cast<std::uint32_t>(bytes_.size()),
                      static_cast<std::uint32_t>(sealed.size()), raw_length});
  util::append(bytes_, sealed);
}

PackWriter::Finished PackWriter::finish(const DataKey& key) {
  util::Bytes header{kPackHeaderVersion};
  util::append(header, encode_pack_entries(entries_));
  std::size_t before = bytes_.size();
  seal_object_append(ObjectType::pack_header, key.id, key.key, header, kHeaderBinding, bytes_);
  util::put_u32le(bytes_, static_cast<std::uint32_t>(bytes_.size() - before));

  Finished f;
  f.id = crypto::sha256(bytes_);
  for (auto& e : entries_) {
    f.blobs.push_back({e.id, e.type, f.id, e.offset, e.length, e.raw_length});
  }
  f.bytes = std::move(bytes_);
  bytes_.clear();
  entries_.clear();
  return f;
}

util::Result<std::uint32_t> pack_header_length(util::ByteView last4) {
  if (last4.size() < 4) return fail(ErrorKind::corrupt, "pack is too short");
  std::uint32_t n = util::get_u32le(last4.data() + last4.size() - 4);
  if (n < envelope_overhead) return fail(ErrorKind::corrupt, "pack header length is invalid");
  return n;
}

util::Result<std::vector<PackHeaderEntry>> open_pack_header(util::ByteView envelope,
                                                            const Keyring& keyring) {
  BKP_ASSIGN(auto h, peek_envelope(envelope));
  return open_pack_header(envelope, keyring.find(h.key_id));
}

util::Result<std::vector<PackHeaderEntry>> open_pack_header(util::ByteView envelope,
                                                            const DataKey* key) {
  if (!key) return fail(ErrorKind::verification, "pack header is sealed with an unknown key");
  BKP_ASSIGN(auto plain, open_object(ObjectType::pack_header, key->key, envelope, kHeaderBinding));
  if (!plain.empty() && plain[0] > kPackHeaderVersion) {
    return fail(ErrorKind::usage, "pack header format " + std::to_string(plain[0]) +
                                      " is newer than this bkp understands; upgrade bkp");
  }
  if (plain.empty() || plain[0] != kPackHeaderVersion) {
    return fail(ErrorKind::corrupt, "unknown pack header version");
  }
  std::size_t used = 0;
  BKP_ASSIGN(auto entries, decode_pack_entries(util::ByteView(plain).subspan(1), used));
  if (used + 1 != plain.size()) return fail(ErrorKind::corrupt, "pack header has trailing bytes");
  return entries;
}

}  // namespace bkp::repo
