#include "repo/repo_config.hpp"

#include <nlohmann/json.hpp>

#include "repo/json_read.hpp"

namespace bkp::repo {

using util::ErrorKind;
using util::fail;

util::Bytes RepoConfig::encode() const {
  nlohmann::ordered_json j;
  j["format"] = "bkp-repository";
  j["version"] = version;
  j["id"] = id;
  j["created"] = created;
  j["chunker"] = {{"algorithm", "fastcdc"},
                  {"min_size", chunker.min_size},
                  {"avg_size", chunker.avg_size},
                  {"max_size", chunker.max_size}};
  j["compression"] = compress::to_string(compression);
  j["pack_size"] = pack_size;
  // Format 1 had no choice and so no field; a format 1 reader rejects a
  // format 2 config before it could compute a wrong id.
  if (version >= 2) j["blob_id"] = std::string(crypto::to_string(blob_id));
  return util::to_bytes(j.dump(2) + "\n");
}

util::Result<RepoConfig> RepoConfig::decode(util::ByteView bytes) {
  try {
    auto j = nlohmann::json::parse(util::as_chars(bytes));
    if (j.at("format") != "bkp-repository") {
      return fail(ErrorKind::no_repository, "not a bkp repository");
    }
    RepoConfig c;
    c.version = json_integer<int>(j.at("version"), "version");
    if (c.version > kFormatVersion) {
      return fail(ErrorKind::usage, "repository format " + std::to_string(c.version) +
                                        " is newer than this bkp understands; upgrade bkp");
    }
    if (c.version < 1) {
      return fail(ErrorKind::no_repository,
                  "repository config is not valid: format version " + std::to_string(c.version));
    }
    c.id = j.at("id").get<std::string>();
    c.created = j.value("created", "");
    auto& ch = j.at("chunker");
    if (ch.at("algorithm") != "fastcdc") return fail(ErrorKind::corrupt, "unknown chunker");
    c.chunker.min_size = json_integer<std::size_t>(ch.at("min_size"), "min_size");
    c.chunker.avg_size = json_integer<std::size_t>(ch.at("avg_size"), "avg_size");
    c.chunker.max_size = json_integer<std::size_t>(ch.at("max_size"), "max_size");
    if (auto st = chunk::validate_params(c.chunker); !st) {
      return fail(ErrorKind::corrupt, "repository config: " + st.error().message);
    }
    BKP_ASSIGN(c.compression, compress::parse_spec(j.at("compression").get<std::string>()));
    c.pack_size = json_integer<std::size_t>(j.at("pack_size"), "pack_size");
    if (c.pack_size == 0 || c.pack_size > kMaxPackSize) {
      return fail(ErrorKind::corrupt, "repository config: pack size out of range");
    }
    c.blob_id = crypto::BlobIdAlgorithm::keyed_blake2b;
    if (c.version >= 2) {
      auto name = j.at("blob_id").get<std::string>();
      auto algorithm = crypto::parse_blob_id_algorithm(name);
      if (!algorithm) return fail(ErrorKind::corrupt, "unknown blob id algorithm '" + name + "'");
      c.blob_id = *algorithm;
    } else if (j.contains("blob_id")) {
      return fail(ErrorKind::corrupt, "repository config: format 1 has no blob_id");
    }
    return c;
  } catch (const nlohmann::json::exception& e) {
    return fail(ErrorKind::no_repository,
                std::string("repository config is not valid: ") + e.what());
  }
}

}  // namespace bkp::repo
