#include "repo/hold.hpp"

#include "repo/json_read.hpp"

namespace bkp::repo {

using util::ErrorKind;
using util::fail;

util::Bytes Hold::encode() const {
  nlohmann::json j{{"version", 1},       {"snapshot", snapshot}, {"reason", reason},
                   {"created", created}, {"hostname", hostname}, {"username", username}};
  return nlohmann::json::to_cbor(j);
}

util::Result<Hold> Hold::decode(util::ByteView cbor) {
  try {
    auto j = parse_cbor(cbor);
    if (json_integer<int>(j.at("version"), "version") != 1) {
      return fail(ErrorKind::usage, "hold format is newer than this bkp; upgrade bkp");
    }
    Hold h;
    h.snapshot = j.at("snapshot").get<std::string>();
    h.reason = j.value("reason", "");
    h.created = j.value("created", "");
    h.hostname = j.value("hostname", "");
    h.username = j.value("username", "");
    return h;
  } catch (const nlohmann::json::exception& e) {
    return fail(ErrorKind::corrupt, std::string("hold is not valid: ") + e.what());
  }
}

}  // namespace bkp::repo
