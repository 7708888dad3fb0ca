#include "engine/postgres_tablespaces.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <set>

#include "engine/recovery_job.hpp"
#include "engine/restore.hpp"
#include "util/fs.hpp"

namespace bkp::engine {

namespace fs = std::filesystem;
using util::ErrorKind;
using util::fail;

namespace {

// Normal form without a trailing '/': "/a/b/" and "/a/./b" are "/a/b".
fs::path normal_dir(const fs::path& p) {
  auto n = p.lexically_normal();
  if (!n.has_filename() && n != n.root_path()) n = n.parent_path();
  return n;
}

}  // namespace

util::Result<std::vector<PgTablespace>> list_tablespaces(sources::postgres::Session& session) {
  BKP_ASSIGN(auto rows, session.query("SELECT oid, spcname, pg_tablespace_location(oid) FROM "
                                      "pg_tablespace WHERE spcname NOT IN ('pg_default', "
                                      "'pg_global') ORDER BY oid"));
  std::vector<PgTablespace> out;
  for (auto& r : rows) {
    if (r.size() != 3) return fail(ErrorKind::generic, "unexpected row from pg_tablespace");
    // An in-place tablespace (allow_in_place_tablespaces, a developer
    // option) lives in pg_tblspc itself: it is read with the data directory.
    if (r[2].empty() || r[2].front() != '/') continue;
    out.push_back(PgTablespace{r[0], r[1], r[2]});
  }
  return out;
}

nlohmann::json tablespaces_to_json(const std::vector<PgTablespace>& spaces) {
  auto out = nlohmann::json::array();
  for (auto& s : spaces)
    out.push_back({{"oid", s.oid}, {"name", s.name}, {"location", s.location}});
  return out;
}

std::vector<PgTablespace> tablespaces_of(const repo::Snapshot& snap) {
  std::vector<PgTablespace> out;
  auto it = snap.extra.find("tablespaces");
  if (it == snap.extra.end() || !it->is_array()) return out;
  for (auto& t : *it) {
    out.push_back(PgTablespace{t.value("oid", ""), t.value("name", ""), t.value("location", "")});
  }
  return out;
}

util::Result<PgTablespaceMapping> parse_tablespace_mapping(std::string_view text) {
  auto eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0 || eq + 1 == text.size()) {
    return fail(ErrorKind::usage, "--tablespace-map '" + std::string(text) +
                                      "': expected OLD=NEW (OLD a tablespace's directory or "
                                      "name, NEW an absolute directory)");
  }
  fs::path new_dir(std::string(text.substr(eq + 1)));
  if (!new_dir.is_absolute()) {
    return fail(ErrorKind::usage, "--tablespace-map '" + std::string(text) +
                                      "': the new directory must be an absolute path");
  }
  return PgTablespaceMapping{std::string(text.substr(0, eq)), normal_dir(new_dir)};
}

util::Result<std::vector<PgTablespacePlace>> place_tablespaces(
    const repo::Snapshot& snap, const fs::path& target,
    const std::vector<PgTablespaceMapping>& mappings) {
  auto spaces = tablespaces_of(snap);
  std::vector<PgTablespacePlace> out;
  std::set<std::string> used_maps;
  std::set<fs::path> dirs;
  for (auto& s : spaces) {
    if (s.oid.empty() || s.oid.find_first_not_of("0123456789") != std::string::npos ||
        s.location.empty())
      return fail(ErrorKind::verification, "snapshot " + snap.id.substr(0, 8) +
                                               " lists a tablespace without oid or location");
    fs::path dir = target / "bkp_tablespaces" / s.oid;
    for (auto& m : mappings) {
      if (m.old_dir == s.name || normal_dir(m.old_dir) == normal_dir(s.location)) {
        dir = m.new_dir;
        used_maps.insert(m.old_dir);
      }
    }
    if (!dirs.insert(dir).second)
      return fail(ErrorKind::usage,
                  "two tablespaces would be restored into '" + dir.string() + "'");
    std::error_code ec;
    auto st = fs::symlink_status(dir, ec);
    if (!ec && fs::exists(st) && (!fs::is_directory(st) || !fs::is_empty(dir, ec))) {
      return fail(ErrorKind::exists, "'" + dir.string() + "', where tablespace '" + s.name +
                                         "' would be restored, exists and is not an empty "
                                         "directory");
    }
    out.push_back(PgTablespacePlace{s, dir});
  }
  for (auto& m : mappings) {
    if (!used_maps.count(m.old_dir)) {
      std::string known;
      for (auto& s : spaces)
        known += (known.empty() ? "" : ", ") + s.name + " (" + s.location + ")";
      return fail(ErrorKind::usage, "--tablespace-map: '" + m.old_dir +
                                        "' is no tablespace of snapshot " + snap.id.substr(0, 8) +
                                        (known.empty() ? " (it has none)" : "; it has " + known));
    }
  }
  return out;
}

util::Result<std::string> restore_tablespaces(repo::Repository& repo, const repo::Snapshot& snap,
                                              const fs::path& target,
                                              const std::vector<PgTablespacePlace>& places,
                                              RecoveryJob& job, std::uint32_t uid,
                                              std::uint32_t gid) {
  std::string map;
  for (auto& p : places) {
    job.step("tablespace", p.space.name + " (" + p.space.location + ") to " + p.dir.string());
    // Parents that do not exist yet: traversable by the server's user.
    const auto parent = p.dir.parent_path();
    std::error_code ec;
    if (!fs::exists(parent, ec)) {
      const bool ours = parent == target / "bkp_tablespaces";
      BKP_TRY(util::make_dirs(parent, ours ? 0700 : 0755));
      if (ours && ::geteuid() == 0 && ::chown(parent.c_str(), uid, gid) != 0)
        return fail(util::errno_error("chown", parent, errno));
    }
    RestoreOptions ro;
    ro.target = p.dir;
    ro.root = p.space.location;
    ro.overwrite = OverwritePolicy::never;
    ro.job = &job;
    BKP_TRY(restore_to_directory(repo, snap, ro));
    if (::geteuid() == 0 && ::chown(p.dir.c_str(), uid, gid) != 0)
      return fail(util::errno_error("chown", p.dir, errno));
    if (::chmod(p.dir.c_str(), 0700) != 0) return fail(util::errno_error("chmod", p.dir, errno));
    auto link = target / "pg_tblspc" / p.space.oid;
    fs::remove(link, ec);
    if (::symlink(p.dir.c_str(), link.c_str()) != 0)
      return fail(util::errno_error("creating the symlink", link, errno));
    if (::geteuid() == 0 && ::lchown(link.c_str(), uid, gid) != 0)
      return fail(util::errno_error("chown", link, errno));
    // The format pg_backup_stop writes: "<oid> <path>" a line.
    map += p.space.oid + " " + p.dir.string() + "\n";
  }
  return map;
}

}  // namespace bkp::engine
