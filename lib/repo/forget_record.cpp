#include "repo/forget_record.hpp"

#include "repo/json_read.hpp"

namespace bkp::repo {

using util::ErrorKind;
using util::fail;

std::string ForgetRecord::object_name() const {
  return std::string(forget_record_prefix) + snapshot;
}

util::Bytes ForgetRecord::encode() const {
  nlohmann::json j{{"version", 1}, {"snapshot", snapshot}, {"time", time}, {"hostname", hostname}};
  return nlohmann::json::to_cbor(j);
}

util::Result<ForgetRecord> ForgetRecord::decode(util::ByteView cbor) {
  try {
    auto j = parse_cbor(cbor);
    if (json_integer<int>(j.at("version"), "version") != 1) {
      return fail(ErrorKind::usage, "forget record format is newer than this bkp; upgrade bkp");
    }
    ForgetRecord r;
    r.snapshot = j.at("snapshot").get<std::string>();
    r.time = j.value("time", "");
    r.hostname = j.value("hostname", "");
    return r;
  } catch (const nlohmann::json::exception& e) {
    return fail(ErrorKind::corrupt, std::string("forget record is not valid: ") + e.what());
  }
}

}  // namespace bkp::repo
