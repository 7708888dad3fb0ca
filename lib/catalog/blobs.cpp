// The chunk index: which pack holds each blob. Read once per chunk during a
// backup, so the lookup statement is prepared once and kept.
#include <cstring>
#include <string>

#include "catalog/catalog.hpp"
#include "catalog/statement.hpp"

namespace bkp::catalog {

using util::ErrorKind;

namespace {

constexpr std::string_view kFindBlob =
    "SELECT type, pack, offset, length, raw_length FROM blobs WHERE id = ?1";
// OR IGNORE: after a crash the same chunk may sit in two packs; the first
// location recorded stays, both are valid.
constexpr std::string_view kAddBlob =
    "INSERT OR IGNORE INTO blobs(id, type, pack, offset, length, raw_length) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)";

util::Error corrupt_index(const std::string& what) {
  return util::Error{ErrorKind::corrupt, "reading the catalog's chunk index: " + what +
                                             "; the catalog can be rebuilt from the repository"};
}

util::Result<Id32> read_id(const Statement& stmt, int column, std::string_view what) {
  util::ByteView bytes = stmt.column_blob(column);
  Id32 id{};
  if (bytes.size() != id.size()) {
    return util::fail(corrupt_index(std::string(what) + " has " + std::to_string(bytes.size()) +
                                    " bytes, not 32"));
  }
  std::memcpy(id.data(), bytes.data(), id.size());
  return id;
}

util::Result<std::uint32_t> read_u32(const Statement& stmt, int column, std::string_view what) {
  std::int64_t value = stmt.column_int(column);
  if (value < 0 || value > 0xffffffffLL) {
    return util::fail(
        corrupt_index(std::string(what) + " " + std::to_string(value) + " is out of range"));
  }
  return static_cast<std::uint32_t>(value);
}

// Columns from `first`: type, pack, offset, length, raw_length.
util::Status read_location(const Statement& stmt, int first, BlobLocation& out) {
  std::int64_t type = stmt.column_int(first);
  if (type != static_cast<int>(BlobType::data) && type != static_cast<int>(BlobType::tree)) {
    return util::fail(corrupt_index("unknown blob type " + std::to_string(type)));
  }
  out.type = static_cast<BlobType>(type);
  BKP_ASSIGN(out.pack, read_id(stmt, first + 1, "a pack id"));
  BKP_ASSIGN(out.offset, read_u32(stmt, first + 2, "offset"));
  BKP_ASSIGN(out.length, read_u32(stmt, first + 3, "length"));
  BKP_ASSIGN(out.raw_length, read_u32(stmt, first + 4, "raw length"));
  return {};
}

}  // namespace

util::Result<std::optional<BlobLocation>> Catalog::find_blob(const Id32& id) {
  BKP_ASSIGN(Statement * stmt, cached(find_blob_stmt_, kFindBlob));
  ResetGuard reset(*stmt);
  stmt->bind_blob(1, id);
  BKP_ASSIGN(bool row, stmt->step("looking up a chunk in the catalog"));
  if (!row) return std::optional<BlobLocation>{};
  BlobLocation location;
  location.id = id;
  BKP_TRY(read_location(*stmt, 0, location));
  return std::optional<BlobLocation>{location};
}

util::Result<std::vector<std::optional<BlobLocation>>> Catalog::find_blobs(
    std::span<const Id32> ids) {
  std::vector<std::optional<BlobLocation>> found;
  found.reserve(ids.size());
  if (ids.empty()) return found;
  BKP_ASSIGN(Statement * stmt, cached(find_blob_stmt_, kFindBlob));
  // In WAL mode every statement outside a transaction takes and drops
  // SQLite's shared-memory read lock (fcntl calls and an fstat), which costs
  // more than the B-tree lookup. An unchanged backup looks up every chunk
  // of every file, a restore locates them: the lookups of a batch share one
  // read transaction. Inside a caller's transaction they simply join it.
  const bool own = sqlite3_get_autocommit(db_) != 0;
  if (own) BKP_TRY(exec(db_, "BEGIN DEFERRED", "starting a catalog read"));
  util::Status status;
  for (const Id32& id : ids) {
    ResetGuard reset(*stmt);
    stmt->bind_blob(1, id);
    auto row = stmt->step("looking up a chunk in the catalog");
    if (!row) {
      status = row.propagate();
      break;
    }
    if (!*row) {
      found.emplace_back();
      continue;
    }
    BlobLocation location;
    location.id = id;
    status = read_location(*stmt, 0, location);
    if (!status) break;
    found.emplace_back(location);
  }
  // A read-only transaction has nothing to lose: ending it either way is
  // the same, and ROLLBACK cannot fail for want of a lock.
  if (own) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  BKP_TRY(status);
  return found;
}

util::Result<std::vector<bool>> Catalog::has_blobs(std::span<const Id32> ids) {
  BKP_ASSIGN(auto locations, find_blobs(ids));
  std::vector<bool> found;
  found.reserve(locations.size());
  for (auto& l : locations) found.push_back(l.has_value());
  return found;
}

util::Status Catalog::add_blobs(std::span<const BlobLocation> blobs) {
  if (blobs.empty()) return {};
  BKP_ASSIGN(Statement * stmt, cached(add_blob_stmt_, kAddBlob));
  return transaction([&]() -> util::Status {
    for (const BlobLocation& blob : blobs) {
      ResetGuard reset(*stmt);
      stmt->bind_blob(1, blob.id);
      stmt->bind_int(2, static_cast<int>(blob.type));
      stmt->bind_blob(3, blob.pack);
      stmt->bind_int(4, blob.offset);
      stmt->bind_int(5, blob.length);
      stmt->bind_int(6, blob.raw_length);
      BKP_TRY(stmt->run("adding chunks to the catalog"));
    }
    return {};
  });
}

util::Status Catalog::for_each_blob(const std::function<util::Status(const BlobLocation&)>& fn) {
  BKP_ASSIGN(Statement stmt,
             Statement::prepare(
                 db_, "SELECT id, type, pack, offset, length, raw_length FROM blobs ORDER BY id"));
  for (;;) {
    BKP_ASSIGN(bool row, stmt.step("reading the catalog's chunk index"));
    if (!row) return {};
    BlobLocation location;
    BKP_ASSIGN(location.id, read_id(stmt, 0, "a chunk id"));
    BKP_TRY(read_location(stmt, 1, location));
    BKP_TRY(fn(location));
  }
}

util::Result<std::uint64_t> Catalog::blob_count() {
  BKP_ASSIGN(Statement stmt, Statement::prepare(db_, "SELECT count(*) FROM blobs"));
  BKP_ASSIGN(bool row, stmt.step("counting the catalog's chunks"));
  return row ? static_cast<std::uint64_t>(stmt.column_int(0)) : 0;
}

util::Status Catalog::remove_pack(const Id32& pack) {
  BKP_ASSIGN(Statement stmt, Statement::prepare(db_, "DELETE FROM blobs WHERE pack = ?1"));
  stmt.bind_blob(1, pack);
  return stmt.run("removing a pack from the catalog's chunk index");
}

util::Result<std::vector<Id32>> Catalog::blobs_in_pack(const Id32& pack) {
  BKP_ASSIGN(Statement stmt, Statement::prepare(db_, "SELECT id FROM blobs WHERE pack = ?1"));
  stmt.bind_blob(1, pack);
  std::vector<Id32> ids;
  for (;;) {
    BKP_ASSIGN(bool row, stmt.step("listing the chunks of a pack in the catalog"));
    if (!row) return ids;
    BKP_ASSIGN(auto id, read_id(stmt, 0, "a chunk id"));
    ids.push_back(id);
  }
}

util::Result<std::vector<BlobLocation>> Catalog::locations_in_pack(const Id32& pack,
                                                                   BlobType type) {
  BKP_ASSIGN(Statement stmt, Statement::prepare(db_,
                                                "SELECT id, type, pack, offset, length, raw_length "
                                                "FROM blobs WHERE pack = ?1 AND type = ?2"));
  stmt.bind_blob(1, pack);
  stmt.bind_int(2, static_cast<int>(type));
  std::vector<BlobLocation> out;
  for (;;) {
    BKP_ASSIGN(bool row, stmt.step("listing the chunks of a pack in the catalog"));
    if (!row) return out;
    BlobLocation location;
    BKP_ASSIGN(location.id, read_id(stmt, 0, "a chunk id"));
    BKP_TRY(read_location(stmt, 1, location));
    out.push_back(location);
  }
}

util::Result<std::vector<std::string>> Catalog::index_segment_names() {
  BKP_ASSIGN(Statement stmt, Statement::prepare(db_, "SELECT name FROM index_segments"));
  std::vector<std::string> names;
  for (;;) {
    BKP_ASSIGN(bool row, stmt.step("listing the catalog's index segments"));
    if (!row) return names;
    names.push_back(stmt.column_text(0));
  }
}

util::Status Catalog::add_index_segment(std::string_view name) {
  BKP_ASSIGN(Statement stmt,
             Statement::prepare(db_, "INSERT OR IGNORE INTO index_segments(name) VALUES (?1)"));
  stmt.bind_text(1, name);
  return stmt.run("recording index segment '" + std::string(name) + "' in the catalog");
}

util::Result<bool> Catalog::has_index_segment(std::string_view name) {
  BKP_ASSIGN(Statement stmt,
             Statement::prepare(db_, "SELECT 1 FROM index_segments WHERE name = ?1"));
  stmt.bind_text(1, name);
  return stmt.step("looking up index segment '" + std::string(name) + "' in the catalog");
}

util::Status Catalog::clear_index() {
  return transaction([&]() -> util::Status {
    return exec(db_, "DELETE FROM blobs; DELETE FROM index_segments;",
                "clearing the catalog's chunk index");
  });
}

}  // namespace bkp::catalog
