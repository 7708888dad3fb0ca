#include "engine/postgres_base_backup.hpp"

#include <archive.h>
#include <archive_entry.h>

#include <cerrno>
#include <cstdio>
#include <memory>

#include <nlohmann/json.hpp>

#include "sources/postgres/tar_member.hpp"
#include "util/crc32c.hpp"
#include "util/interrupt.hpp"

namespace bkp::engine {

namespace fs = std::filesystem;
namespace pg = sources::postgres;
using util::ErrorKind;
using util::fail;

namespace {

// Feeds one archive to libarchive: the payloads of 'd' messages until the
// next 'n' or 'm' (kept for the caller) or the end of the COPY stream.
struct Feed {
  pg::ReplicationConnection& rc;
  util::RateLimiter* limit = nullptr;
  std::uint64_t* bytes = nullptr;
  bool ended = false;        // the COPY stream is over
  char next_type = 0;        // 'n' or 'm' that ended this archive; 0: none yet
  std::string next_payload;  // its payload (the message buffer is gone by then)
  std::optional<util::Error> error;

  // The next piece of this archive; empty at its end.
  util::Result<pg::CopyMessage> next() {
    while (!ended && !next_type) {
      BKP_TRY(util::check_interrupted());
      BKP_ASSIGN(auto m, rc.next_message());
      if (!m) {
        ended = true;
        break;
      }
      if (m->type == 'p') continue;  // the server's progress: ours is what arrived
      if (m->type == 'd') {
        if (m->size == 0) continue;  // to libarchive, an empty read is the end
        if (limit) limit->consume(m->size);
        *bytes += m->size;
        return *m;
      }
      next_type = m->type;
      next_payload.assign(reinterpret_cast<const char*>(m->data), m->size);
    }
    return pg::CopyMessage{};
  }
};

la_ssize_t feed_read(struct archive* a, void* opaque, const void** buf) {
  auto& f = *static_cast<Feed*>(opaque);
  auto piece = f.next();
  if (!piece) {
    f.error = piece.error();
    archive_set_error(a, EIO, "%s", piece.error().message.c_str());
    return -1;
  }
  *buf = piece->data;
  return la_ssize_t(piece->size);
}

struct ArchiveCloser {
  void operator()(struct archive* a) const { archive_read_free(a); }
};

std::string crc_hex(std::uint32_t crc) {
  // PostgreSQL writes the checksum's bytes as they lie in memory
  // (little-endian on the machines it runs on), in hex.
  char out[9];
  std::snprintf(out, sizeof out, "%02x%02x%02x%02x", crc & 0xFF, (crc >> 8) & 0xFF,
                (crc >> 16) & 0xFF, crc >> 24);
  return out;
}

// The members of one archive. `root`: where they go in the tree;
// `manifest_prefix`: their paths' prefix in the manifest ("" or
// "pg_tblspc/<oid>/"); `main`: the data directory's archive, whose
// backup_label and tablespace_map go to the snapshot's facts, not the tree.
util::Status read_archive(repo::Repository& repo, Feed& feed, const fs::path& root,
                          const std::string& manifest_prefix, bool main, MemberTree& tree,
                          ReceivedBaseBackup& out, const ProgressFn& progress) {
  std::unique_ptr<struct archive, ArchiveCloser> a(archive_read_new());
  archive_read_support_format_tar(a.get());
  archive_read_support_format_empty(a.get());
  auto la_error = [&](const std::string& what) {
    if (feed.error) return fail(*feed.error);
    const char* msg = archive_error_string(a.get());
    return fail(ErrorKind::corrupt, "reading the base backup's archive for '" + root.string() +
                                        "': " + what + ": " + (msg ? msg : "unknown error"));
  };
  if (archive_read_open(a.get(), &feed, nullptr, feed_read, nullptr) != ARCHIVE_OK)
    return la_error("opening");
  bool root_added = false;
  std::uint64_t items = 0;
  for (;;) {
    struct archive_entry* entry = nullptr;
    int r = archive_read_next_header(a.get(), &entry);
    if (r == ARCHIVE_EOF) break;
    if (r != ARCHIVE_OK) return la_error("a member's header");
    const char* raw = archive_entry_pathname(entry);
    BKP_ASSIGN(auto rel, pg::tar_member_path(raw ? raw : ""));
    const fs::path path = root / rel;
    BKP_ASSIGN(auto node, pg::tar_member_node(entry, path.filename().string()));
    if (!root_added) {
      // No member names the archive's root: it gets the owner of its first.
      sources::Node meta = node;
      meta.type = sources::NodeType::dir;
      meta.mode = 0700;
      meta.size = 0;
      meta.link_target.clear();
      BKP_TRY(tree.add_root(root, meta));
      root_added = true;
    }
    if (node.type != sources::NodeType::file) {
      BKP_TRY(tree.add(path, std::move(node)));
      continue;
    }
    const bool fact = main && (rel == "backup_label" || rel == "tablespace_map");
    std::string text;
    util::Crc32c crc;
    std::uint64_t size = 0;
    // Errors of the stream (the connection, an interrupt) come back as
    // themselves through la_error, not as libarchive's.
    auto read = [&](std::uint8_t* buf, std::size_t cap) -> util::Result<std::size_t> {
      auto n = archive_read_data(a.get(), buf, cap);
      if (n < 0) return la_error("'" + rel + "'");
      crc.update(buf, std::size_t(n));
      size += std::uint64_t(n);
      if (fact) text.append(reinterpret_cast<const char*>(buf), std::size_t(n));
      return std::size_t(n);
    };
    if (fact) {
      std::uint8_t buf[8192];
      for (;;) {
        BKP_ASSIGN(auto n, read(buf, sizeof buf));
        if (n == 0) break;
      }
      (rel == "backup_label" ? out.backup_label : out.tablespace_map) = std::move(text);
    } else {
      auto stored = store_stream(repo, read, Checksum::no, [&](std::size_t) {
        if (progress) progress(BackupProgress{feed.bytes ? *feed.bytes : 0, items, path.string()});
      });
      if (!stored) return stored.propagate();
      node.size = stored->size;
      BKP_TRY(tree.add(path, std::move(node), std::move(*stored)));
      ++items;
    }
    out.files[manifest_prefix + rel] = ReceivedFile{size, crc.value()};
  }
  if (!root_added) BKP_TRY(tree.add_root(root, {}));
  // Whatever follows the archive's end-of-archive blocks (servers do not
  // send them) up to the next archive is not part of it.
  for (;;) {
    BKP_ASSIGN(auto rest, feed.next());
    if (rest.size == 0) break;
  }
  return {};
}

std::string c_string(const std::string& payload, std::size_t& pos) {
  auto end = payload.find('\0', pos);
  if (end == std::string::npos) end = payload.size();
  auto s = payload.substr(pos, end - pos);
  pos = end + 1;
  return s;
}

}  // namespace

util::Result<ReceivedBaseBackup> receive_base_backup(repo::Repository& repo,
                                                     pg::ReplicationConnection& rc,
                                                     const BaseBackupLayout& layout,
                                                     MemberTree& tree, util::RateLimiter* limit,
                                                     const ProgressFn& progress) {
  ReceivedBaseBackup out;
  Feed feed{rc, limit, &out.bytes};
  // Before the first 'n' nothing of an archive may come.
  auto first = feed.next();
  if (!first) return first.propagate();
  if (first->size != 0)
    return fail(ErrorKind::corrupt, rc.where() + ": base backup data before any archive");
  while (feed.next_type) {
    const char type = feed.next_type;
    const std::string payload = std::move(feed.next_payload);
    feed.next_type = 0;
    if (type == 'n') {
      std::size_t pos = 0;
      auto name = c_string(payload, pos);
      auto location = pos <= payload.size() ? c_string(payload, pos) : std::string();
      if (location.empty()) {
        BKP_TRY(read_archive(repo, feed, layout.data_dir, "", true, tree, out, progress));
      } else {
        auto oid = layout.tablespace_oids.find(location);
        if (oid == layout.tablespace_oids.end() || location.front() != '/') {
          return fail(ErrorKind::corrupt, rc.where() + ": archive '" + name +
                                              "' is for an unknown tablespace at '" + location +
                                              "'");
        }
        BKP_TRY(read_archive(repo, feed, location, "pg_tblspc/" + oid->second + "/", false, tree,
                             out, progress));
      }
    } else if (type == 'm') {
      for (;;) {
        BKP_ASSIGN(auto piece, feed.next());
        if (piece.size == 0) break;
        out.manifest.append(reinterpret_cast<const char*>(piece.data), piece.size);
      }
    } else {
      return fail(ErrorKind::corrupt, rc.where() + ": unknown message type '" +
                                          std::string(1, type) + "' in the base backup stream");
    }
  }
  return out;
}

util::Status check_against_manifest(const ReceivedBaseBackup& received) {
  auto bad = [](const std::string& what) {
    return fail(ErrorKind::verification, "the base backup does not match its manifest: " + what);
  };
  if (received.manifest.empty()) return bad("the server sent no manifest");
  auto json = nlohmann::json::parse(received.manifest, nullptr, false);
  if (json.is_discarded() || !json.is_object() || !json.contains("Files") ||
      !json["Files"].is_array())
    return bad("it cannot be read");
  std::size_t listed = 0;
  for (auto& f : json["Files"]) {
    // Names that are not valid UTF-8 come hex-encoded as Encoded-Path.
    std::string path;
    if (f.contains("Path") && f["Path"].is_string()) {
      path = f["Path"].get<std::string>();
    } else if (f.contains("Encoded-Path") && f["Encoded-Path"].is_string()) {
      auto hex = f["Encoded-Path"].get<std::string>();
      for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
        path += char(std::stoi(hex.substr(i, 2), nullptr, 16));
    } else {
      return bad("a file without a path");
    }
    auto it = received.files.find(path);
    if (it == received.files.end()) return bad("'" + path + "' is listed but did not arrive");
    ++listed;
    if (f.value("Size", std::uint64_t(~0ull)) != it->second.size)
      return bad("'" + path + "' arrived with " + std::to_string(it->second.size) +
                 " bytes, the manifest says " + std::to_string(f.value("Size", std::uint64_t(0))));
    if (f.value("Checksum-Algorithm", "") == "CRC32C" &&
        f.value("Checksum", "") != crc_hex(it->second.crc32c))
      return bad("'" + path + "' arrived with another CRC-32C than the manifest's");
  }
  if (listed != received.files.size()) {
    for (auto& [path, file] : received.files) {
      bool found = false;
      for (auto& f : json["Files"])
        if (f.value("Path", "") == path) found = true;
      if (!found) return bad("'" + path + "' arrived but is not listed");
    }
    return bad("a file is listed twice");
  }
  return {};
}

}  // namespace bkp::engine
