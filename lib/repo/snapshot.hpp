// Snapshot manifests ("snapshots/<64 hex>"): one per backup, written last,
// once everything it references is durable. Sealed CBOR.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "repo/audit_anchor.hpp"
#include "repo/pack.hpp"

namespace bkp::repo {

struct Snapshot {
  std::string id;         // 64 hex, random
  std::string time;       // RFC 3339, when the backup started
  std::string completed;  // RFC 3339, when the manifest was written
  std::string hostname;
  std::string username;
  std::string source_kind;  // "files", "stdin", ...
  std::string source_name;  // what --source or --name said, or derived
  std::vector<std::string> paths;
  std::vector<std::string> tags;
  std::string backup_type = "full";  // full | incremental | differential
  std::string parent;                // snapshot id this one was compared with
  BlobId tree{};                     // root tree blob
  nlohmann::json stats = nlohmann::json::object();
  nlohmann::json extra = nlohmann::json::object();  // source-specific facts
  std::string program_version;
  // The writer's audit chain head when the manifest was written (set by
  // Repository::save_snapshot); nullopt in manifests from before anchors.
  std::optional<AuditAnchor> audit;

  std::string object_name() const { return "snapshots/" + id; }
  util::Bytes encode() const;
  static util::Result<Snapshot> decode(util::ByteView cbor);
  // The form `bkp snapshots --json` prints.
  nlohmann::json to_json() const;
};

std::string new_snapshot_id();

}  // namespace bkp::repo
