#include <CLI/CLI.hpp>

#include <cstdio>

#include "command.hpp"
#include "engine/snapshots.hpp"
#include "engine/tree_walk.hpp"
#include "util/time.hpp"

namespace bkp::cli {

namespace {

std::string mode_string(const sources::Node& n) {
  static constexpr char kTypes[] = {'-', 'd', 'l', 'c', 'b', 'p', 's'};
  std::string s(1, kTypes[static_cast<int>(n.type)]);
  const char* rwx = "rwxrwxrwx";
  for (int i = 0; i < 9; ++i) s += (n.mode & (0400u >> i)) ? rwx[i] : '-';
  // setuid, setgid and sticky show in the execute columns, as ls(1) does.
  auto special = [&](std::uint32_t bit, std::size_t col, char with_x, char without_x) {
    if (n.mode & bit) s[col] = s[col] == 'x' ? with_x : without_x;
  };
  special(04000, 3, 's', 'S');
  special(02000, 6, 's', 'S');
  special(01000, 9, 't', 'T');
  return s;
}

}  // namespace

RunFn setup_ls(CLI::App& sub) {
  auto spec = std::make_shared<std::string>();
  auto path = std::make_shared<std::string>();
  auto long_format = std::make_shared<bool>(false);
  sub.add_option("snapshot", *spec, "snapshot id (prefix) or 'latest'")->required();
  sub.add_option("path", *path, "list only below this path in the snapshot");
  sub.add_flag("-l,--long", *long_format, "show mode, owner, size and time");
  return [spec, path, long_format](Context& ctx) {
    auto& repo = *ctx.repo;
    if (auto st = repo.sync_catalog(); !st) return ctx.out.error(st.error());
    auto snap = engine::resolve_snapshot(repo, *spec);
    if (!snap) return ctx.out.error(snap.error());
    ctx.audit.snapshots.push_back(snap->id);
    std::string prefix = *path;
    while (prefix.size() > 1 && prefix.back() == '/') prefix.pop_back();
    if (prefix == "/") prefix.clear();
    auto print = [&](const std::string& p, const engine::TreeNode& n) {
      const auto& m = n.meta;
      if (ctx.out.json()) {
        nlohmann::json j{{"path", p},
                         {"kind", sources::type_name(m.type)},
                         {"mode", m.mode},
                         {"uid", m.uid},
                         {"gid", m.gid},
                         {"user", m.user},
                         {"group", m.group},
                         {"size", m.size},
                         {"mtime", util::format_rfc3339(m.mtime_ns)}};
        if (m.type == sources::NodeType::symlink) j["target"] = m.link_target;
        ctx.out.emit("node", j);
      } else if (*long_format) {
        char line[128];
        std::string owner = m.user.empty() ? std::to_string(m.uid) : m.user;
        std::string group = m.group.empty() ? std::to_string(m.gid) : m.group;
        std::snprintf(line, sizeof line, "%s %-8s %-8s %12llu %s ", mode_string(m).c_str(),
                      owner.c_str(), group.c_str(), static_cast<unsigned long long>(m.size),
                      util::format_rfc3339(m.mtime_ns).substr(0, 19).c_str());
        std::string text = line + p;
        if (m.type == sources::NodeType::symlink) text += " -> " + m.link_target;
        ctx.out.data(text);
      } else {
        ctx.out.data(p);
      }
    };
    engine::TreeVisitor v{
        [&](const std::string& p, const engine::TreeNode& n) -> util::Result<engine::Descend> {
          bool below = prefix.empty() || p == prefix || p.rfind(prefix + "/", 0) == 0;
          bool above = prefix.rfind(p + "/", 0) == 0;
          if (below) print(p, n);
          return below || above ? engine::Descend::yes : engine::Descend::no;
        },
        {}};
    if (!prefix.empty()) {
      if (auto found = engine::find_node(repo, snap->tree, prefix); !found) {
        return ctx.out.error(found.error());
      }
    }
    if (auto st = engine::walk_tree(repo, snap->tree, v); !st) return ctx.out.error(st.error());
    return 0;
  };
}

}  // namespace bkp::cli
