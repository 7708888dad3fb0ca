// Packs ("data/<2 hex>/<64 hex>"): many sealed blobs in one object, so a
// cloud store sees few large objects. Layout:
//
//   blob envelope | blob envelope | ... | header envelope | u32le header length
//
// The header (sealed, type pack_header) lists every blob: type, id, offset,
// stored length, raw length. The pack's name is the SHA-256 of its bytes, so
// `verify --read-data` can check a whole pack without any key.
#pragma once

#include <string>
#include <vector>

#include "catalog/catalog.hpp"
#include "repo/keyring.hpp"
#include "util/bytes.hpp"
#include "util/result.hpp"

namespace bkp::repo {

using BlobId = catalog::Id32;
using PackId = catalog::Id32;
using catalog::BlobLocation;
using catalog::BlobType;

std::string pack_object_name(const PackId& id);
// Parses "data/ab/<64 hex>"; nullopt for anything else.
std::optional<PackId> parse_pack_name(std::string_view name);

struct PackHeaderEntry {
  BlobType type = BlobType::data;
  BlobId id{};
  std::uint32_t offset = 0, length = 0, raw_length = 0;
};

// Count (u32le) then one 45-byte record per blob.
util::Bytes encode_pack_entries(const std::vector<PackHeaderEntry>& entries);
util::Result<std::vector<PackHeaderEntry>> decode_pack_entries(util::ByteView in,
                                                               std::size_t& used);

class PackWriter {
 public:
  // Appends an already sealed blob.
  void add(BlobType type, const BlobId& id, util::ByteView sealed, std::uint32_t raw_length);
  // Room for `n` bytes, so a growing pack is never copied (pages not yet
  // written cost no memory).
  void reserve(std::size_t n) { bytes_.reserve(n); }
  std::size_t size() const { return bytes_.size(); }
  std::size_t count() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }

  struct Finished {
    PackId id{};
    util::Bytes bytes;
    std::vector<BlobLocation> blobs;
  };
  // Seals the header with `key`, computes the pack id, and resets the writer.
  Finished finish(const DataKey& key);

 private:
  util::Bytes bytes_;
  std::vector<PackHeaderEntry> entries_;
};

// Reads a pack's header from its last bytes: `tail` must hold at least the
// header envelope and the trailing length (read the last 4 bytes first to
// learn the size, or pass the whole pack).
util::Result<std::uint32_t> pack_header_length(util::ByteView last4);
util::Result<std::vector<PackHeaderEntry>> open_pack_header(util::ByteView header_envelope,
                                                            const Keyring& keyring);
// The same with the key already looked up (Repository::find_key, which also
// knows newer generations and backup sessions' keys); nullptr: unknown key.
util::Result<std::vector<PackHeaderEntry>> open_pack_header(util::ByteView header_envelope,
                                                            const DataKey* key);

}  // namespace bkp::repo
