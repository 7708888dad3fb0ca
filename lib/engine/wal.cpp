#include "engine/wal.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "engine/backup.hpp"
#include "engine/content.hpp"
#include "repo/audit_log.hpp"
#include "repo/envelope.hpp"
#include "util/fs.hpp"
#include "util/host.hpp"
#include "util/time.hpp"

namespace bkp::engine {

using util::ErrorKind;
using util::fail;

namespace {

util::Result<std::string> object_for(const std::string& name) {
  auto object = repo::wal_object_name(name);
  if (!object) {
    return fail(ErrorKind::usage, "'" + name +
                                      "' is not a WAL file name (a segment, .partial, .backup "
                                      "or .history file)");
  }
  return *object;
}

util::Status same_or_conflict(const repo::WalEntry& entry, std::uint64_t size,
                              const crypto::Digest& sha) {
  if (entry.size == size && entry.sha256 == sha) return {};
  return fail(ErrorKind::exists,
              "WAL file '" + entry.name + "' is already archived with different content (" +
                  std::to_string(entry.size) + " bytes, sha256 " +
                  util::to_hex(entry.sha256).substr(0, 16) + "); refusing to overwrite it");
}

util::Status write_all(int fd, util::ByteView data, const std::string& path) {
  std::size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(util::errno_error("writing", path, errno));
    }
    off += static_cast<std::size_t>(n);
  }
  return {};
}

// The entry says where each chunk was stored, so no catalog is needed; a
// pack rewritten since (prune) falls back to the catalog's location.
util::Result<util::Bytes> read_chunk(repo::Repository& repo, const repo::BlobLocation& loc) {
  auto sealed = repo.backend().get_range(repo::pack_object_name(loc.pack), loc.offset, loc.length);
  if (sealed) {
    auto plain = repo.decode_blob(loc, *sealed);
    if (plain) return plain;
  }
  return repo.load_blob(loc.id);
}

}  // namespace

util::Result<std::optional<repo::WalEntry>> load_wal_entry(repo::Repository& repo,
                                                           const std::string& object) {
  auto plain = repo.load_object(repo::ObjectType::wal_entry, object);
  if (!plain) {
    if (plain.error().kind == ErrorKind::not_found) return std::optional<repo::WalEntry>{};
    return plain.propagate();
  }
  BKP_ASSIGN(auto entry, repo::WalEntry::decode(*plain));
  return std::optional<repo::WalEntry>(std::move(entry));
}

util::Result<StoredContent> store_wal_data(repo::Repository& repo, util::ByteView data) {
  std::size_t pos = 0;
  return store_stream(
      repo,
      [&](std::uint8_t* buf, std::size_t cap) -> util::Result<std::size_t> {
        std::size_t n = std::min(cap, data.size() - pos);
        std::memcpy(buf, data.data() + pos, n);
        pos += n;
        return n;
      },
      Checksum::no);
}

util::Result<bool> publish_wal_entry(repo::Repository& repo, const std::string& object,
                                     repo::WalEntry entry,
                                     const std::vector<repo::BlobId>& chunks) {
  // So that removing the newest audit entries is caught (audit_anchor.hpp):
  // with continuous archiving, every few minutes; in a copy, the target's
  // chain.
  BKP_ASSIGN(entry.audit, repo::audit_anchor(repo));
  entry.chunks.clear();
  for (auto& id : chunks) {
    BKP_ASSIGN(auto loc, repo.catalog().find_blob(id));
    if (!loc) {
      return fail(ErrorKind::verification, "archiving '" + entry.name + "': chunk " +
                                               util::to_hex(id) +
                                               " is not in the catalog after it was stored");
    }
    entry.chunks.push_back(*loc);
  }
  BKP_TRY(repo.check_prune_deadline());
  BKP_TRY(repo.check_key_retirement());
  // The key domain's key when one is in use (wal-push --key-domain), so
  // that shredding the domain erases its WAL with its base backups.
  auto& key = repo.content_key();
  auto sealed = repo::seal_object(repo::ObjectType::wal_entry, key.id, key.key, entry.encode(),
                                  util::as_bytes(object));
  auto put = repo.backend().put(object, sealed, storage::WriteMode::create_only);
  if (!put && put.error().kind == ErrorKind::exists) {
    // Another push of the same name won the race: fine if it is this file.
    BKP_ASSIGN(auto other, load_wal_entry(repo, object));
    if (!other) return put.propagate();
    BKP_TRY(same_or_conflict(*other, entry.size, entry.sha256));
    return false;
  }
  if (!put) return put.propagate();
  return true;
}

util::Result<WalPushReport> wal_push(repo::Repository& repo, const std::filesystem::path& path) {
  WalPushReport report;
  report.name = path.filename().string();
  BKP_ASSIGN(report.object, object_for(report.name));
  BKP_ASSIGN(auto data, util::read_file(path));
  report.size = data.size();
  const auto sha = crypto::sha256(data);

  BKP_ASSIGN(auto existing, load_wal_entry(repo, report.object));
  if (existing) {
    BKP_TRY(same_or_conflict(*existing, data.size(), sha));
    report.already_archived = true;
    return report;
  }

  const repo::WriteStats before = repo.write_stats();
  BKP_ASSIGN(auto stored, store_wal_data(repo, data));
  BKP_TRY(repo.flush());
  report.stored_bytes_new = written_since(before, repo.write_stats()).stored_bytes_new;

  repo::WalEntry entry;
  entry.name = report.name;
  entry.size = data.size();
  entry.sha256 = sha;
  entry.pushed = util::now_rfc3339();
  entry.hostname = util::host_name();
  BKP_ASSIGN(auto written, publish_wal_entry(repo, report.object, std::move(entry), stored.chunks));
  report.already_archived = !written;
  return report;
}

util::Result<WalFetchReport> wal_fetch(repo::Repository& repo, const std::string& name,
                                       const std::filesystem::path& dest) {
  BKP_ASSIGN(auto object, object_for(name));
  BKP_ASSIGN(auto entry, load_wal_entry(repo, object));
  if (!entry) return fail(ErrorKind::not_found, "WAL file '" + name + "' is not archived");
  if (entry->name != name) {
    return fail(ErrorKind::verification, "WAL entry '" + object + "' names '" + entry->name + "'");
  }
  // A temporary name in the same directory: PostgreSQL never sees a partial
  // segment, and a failed fetch leaves nothing behind.
  auto tmp = dest;
  tmp += ".bkp-partial";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return fail(util::errno_error("creating", tmp, errno));
  crypto::Sha256 hash;
  std::uint64_t size = 0;
  util::Status st;
  for (auto& loc : entry->chunks) {
    auto chunk = read_chunk(repo, loc);
    if (!chunk) {
      st = chunk.propagate();
      break;
    }
    hash.update(*chunk);
    size += chunk->size();
    st = write_all(fd, *chunk, tmp.string());
    if (!st) break;
  }
  ::close(fd);
  if (st && (size != entry->size || hash.finish() != entry->sha256)) {
    st = fail(ErrorKind::verification,
              "WAL file '" + name + "' does not match its recorded size and SHA-256");
  }
  if (st && ::rename(tmp.c_str(), dest.c_str()) != 0)
    st = fail(util::errno_error("renaming", tmp, errno));
  if (!st) {
    ::unlink(tmp.c_str());
    return st.propagate();
  }
  return WalFetchReport{name, size};
}

util::Result<util::Bytes> read_wal_content(repo::Repository& repo, const repo::WalEntry& entry) {
  util::Bytes out;
  out.reserve(entry.size);
  for (auto& loc : entry.chunks) {
    BKP_ASSIGN(auto chunk, read_chunk(repo, loc));
    out.insert(out.end(), chunk.begin(), chunk.end());
  }
  if (out.size() != entry.size || crypto::sha256(out) != entry.sha256) {
    return fail(ErrorKind::verification,
                "WAL file '" + entry.name + "' does not match its recorded size and SHA-256");
  }
  return out;
}

util::Result<util::Bytes> wal_read(repo::Repository& repo, const std::string& name) {
  BKP_ASSIGN(auto object, object_for(name));
  BKP_ASSIGN(auto entry, load_wal_entry(repo, object));
  if (!entry) return fail(ErrorKind::not_found, "WAL file '" + name + "' is not archived");
  return read_wal_content(repo, *entry);
}

}  // namespace bkp::engine
