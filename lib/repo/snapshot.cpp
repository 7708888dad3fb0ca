#include "repo/snapshot.hpp"

#include <cstring>

#include "crypto/hash.hpp"
#include "repo/json_read.hpp"

namespace bkp::repo {

using util::ErrorKind;
using util::fail;

std::string new_snapshot_id() { return util::to_hex(crypto::random_bytes(32)); }

nlohmann::json Snapshot::to_json() const {
  return {{"id", id},
          {"time", time},
          {"completed", completed},
          {"hostname", hostname},
          {"username", username},
          {"source_kind", source_kind},
          {"source", source_name},
          {"paths", paths},
          {"tags", tags},
          {"backup_type", backup_type},
          {"parent", parent},
          {"tree", util::to_hex(tree)},
          {"stats", stats},
          {"extra", extra},
          {"program_version", program_version}};
}

util::Bytes Snapshot::encode() const {
  nlohmann::json j = to_json();
  j["version"] = 1;
  j["tree"] = nlohmann::json::binary(std::vector<std::uint8_t>(tree.begin(), tree.end()));
  if (audit) j[audit_anchor_key] = encode_audit_anchor(*audit);
  return nlohmann::json::to_cbor(j);
}

util::Result<Snapshot> Snapshot::decode(util::ByteView cbor) {
  try {
    auto j = parse_cbor(cbor);
    if (json_integer<int>(j.at("version"), "version") != 1) {
      return fail(ErrorKind::usage, "snapshot format is newer than this bkp; upgrade bkp");
    }
    Snapshot s;
    s.id = j.at("id").get<std::string>();
    s.time = j.at("time").get<std::string>();
    s.completed = j.value("completed", "");
    s.hostname = j.value("hostname", "");
    s.username = j.value("username", "");
    s.source_kind = j.at("source_kind").get<std::string>();
    s.source_name = j.at("source").get<std::string>();
    s.paths = j.value("paths", std::vector<std::string>{});
    s.tags = j.value("tags", std::vector<std::string>{});
    s.backup_type = j.at("backup_type").get<std::string>();
    s.parent = j.value("parent", "");
    auto& tree = j.at("tree").get_binary();
    if (tree.size() != 32) return fail(ErrorKind::corrupt, "snapshot tree id has a wrong length");
    std::memcpy(s.tree.data(), tree.data(), 32);
    s.stats = j.value("stats", nlohmann::json::object());
    s.extra = j.value("extra", nlohmann::json::object());
    s.program_version = j.value("program_version", "");
    s.audit = decode_audit_anchor(j);
    return s;
  } catch (const nlohmann::json::exception& e) {
    return fail(ErrorKind::corrupt, std::string("snapshot manifest is not valid: ") + e.what());
  }
}

}  // namespace bkp::repo
