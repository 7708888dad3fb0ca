#include "repo/index_segment.hpp"

#include <cstring>

#include "crypto/hash.hpp"

namespace bkp::repo {

using util::ErrorKind;
using util::fail;

namespace {
constexpr std::uint8_t kIndexVersion = 1;
}

std::string new_index_name() { return "index/" + util::to_hex(crypto::random_bytes(32)); }

util::Bytes encode_index(const std::vector<IndexedPack>& packs) {
  util::Bytes out{kIndexVersion};
  util::put_u32le(out, static_cast<std::uint32_t>(packs.size()));
  for (auto& p : packs) {
    out.insert(out.end(), p.id.begin(), p.id.end());
    util::append(out, encode_pack_entries(p.blobs));
  }
  return out;
}

util::Result<std::vector<IndexedPack>> decode_index(util::ByteView in) {
  if (!in.empty() && in[0] > kIndexVersion) {
    return fail(ErrorKind::usage, "index segment format " + std::to_string(in[0]) +
                                      " is newer than this bkp understands; upgrade bkp");
  }
  if (in.size() < 5 || in[0] != kIndexVersion) {
    return fail(ErrorKind::corrupt, "unknown index segment version");
  }
  std::uint32_t n = util::get_u32le(in.data() + 1);
  std::size_t pos = 5;
  std::vector<IndexedPack> out;
  for (std::uint32_t i = 0; i < n; ++i) {
    if (in.size() - pos < 32) return fail(ErrorKind::corrupt, "index segment is truncated");
    IndexedPack p;
    std::memcpy(p.id.data(), in.data() + pos, 32);
    pos += 32;
    std::size_t used = 0;
    BKP_ASSIGN(p.blobs, decode_pack_entries(in.subspan(pos), used));
    pos += used;
    out.push_back(std::move(p));
  }
  if (pos != in.size()) return fail(ErrorKind::corrupt, "index segment has trailing bytes");
  return out;
}

}  // namespace bkp::repo
