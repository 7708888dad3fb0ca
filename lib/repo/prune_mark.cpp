#include "repo/prune_mark.hpp"

#include <cstring>

#include "crypto/hash.hpp"
#include "repo/json_read.hpp"

namespace bkp::repo {

using util::ErrorKind;
using util::fail;

std::string new_prune_mark_name() {
  return std::string(prune_mark_prefix) + util::to_hex(crypto::random_bytes(32));
}

util::Bytes PruneMark::encode() const {
  nlohmann::json packs_json = nlohmann::json::array();
  for (auto& p : packs)
    packs_json.push_back(nlohmann::json::binary(std::vector<std::uint8_t>(p.begin(), p.end())));
  nlohmann::json j{{"version", 1},
                   {"created", created},
                   {"delete_after", delete_after},
                   {"hostname", hostname},
                   {"packs", packs_json}};
  // Written only when there are some, so marks without WAL stay as they were.
  if (!wal.empty()) j["wal"] = wal;
  return nlohmann::json::to_cbor(j);
}

util::Result<PruneMark> PruneMark::decode(util::ByteView cbor) {
  try {
    auto j = parse_cbor(cbor);
    if (json_integer<int>(j.at("version"), "version") != 1) {
      return fail(ErrorKind::usage, "prune mark format is newer than this bkp; upgrade bkp");
    }
    PruneMark m;
    m.created = j.at("created").get<std::string>();
    m.delete_after = j.at("delete_after").get<std::string>();
    m.hostname = j.value("hostname", "");
    for (auto& p : j.at("packs")) {
      auto& bin = p.get_binary();
      if (bin.size() != 32)
        return fail(ErrorKind::corrupt, "prune mark pack id has a wrong length");
      PackId id;
      std::memcpy(id.data(), bin.data(), 32);
      m.packs.push_back(id);
    }
    if (j.contains("wal")) m.wal = j.at("wal").get<std::vector<std::string>>();
    return m;
  } catch (const nlohmann::json::exception& e) {
    return fail(ErrorKind::corrupt, std::string("prune mark is not valid: ") + e.what());
  }
}

}  // namespace bkp::repo
