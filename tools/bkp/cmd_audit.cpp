// bkp audit log|verify|export: the repository's audit log (one entry per
// command that opened it; see doc/compliance.md).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>
#include <sstream>

#include "command.hpp"
#include "repo/audit_log.hpp"
#include "util/fs.hpp"
#include "util/time.hpp"

namespace bkp::cli {

namespace {

struct AuditOptions {
  std::string since;
  std::string output;
  std::string format = "jsonl";
};

nlohmann::json parse_array(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  return j.is_discarded() ? nlohmann::json(text) : j;
}

nlohmann::json entry_json(const catalog::AuditRow& r) {
  return {{"time", r.time},
          {"user", r.user},
          {"uid", r.uid},
          {"host", r.host},
          {"command", r.command},
          {"args", parse_array(r.args)},
          {"result", r.result},
          {"snapshots", parse_array(r.snapshots)},
          {"keys", parse_array(r.keys)},
          {"keyed", r.keyed},
          {"chain", r.chain},
          {"seq", r.seq ? nlohmann::json(*r.seq) : nlohmann::json(nullptr)},
          {"mac", r.mac}};
}

// "2026-11-27" or any RFC 3339 time, as the catalog's text (UTC, micros).
util::Result<std::string> since_text(const std::string& since) {
  if (since.empty()) return std::string();
  auto ns = util::parse_rfc3339(since.size() == 10 ? since + "T00:00:00Z" : since);
  if (!ns) {
    return util::fail(util::ErrorKind::usage,
                      "--since takes a date (2026-11-27) or an RFC 3339 time, not '" + since + "'");
  }
  return util::format_rfc3339(*ns);
}

std::string join(const nlohmann::json& array) {
  std::string out;
  if (!array.is_array()) return array.dump();
  for (auto& e : array) {
    if (!out.empty()) out += ' ';
    out += e.is_string() ? e.get<std::string>() : e.dump();
  }
  return out;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

int report_problems(Context& ctx, const repo::AuditReport& r) {
  for (auto& w : r.warnings) ctx.out.warn(w);
  for (auto& p : r.problems) ctx.out.warn(p);
  if (r.problems.empty()) return 0;
  return ctx.out.error(util::make_error(
      util::ErrorKind::verification,
      "audit log verification failed: " + std::to_string(r.problems.size()) + " problem(s)"));
}

int log(Context& ctx, const AuditOptions& o) {
  auto since = since_text(o.since);
  if (!since) return ctx.out.error(since.error());
  auto& repo = *ctx.repo;
  // Other hosts' new entries first, so the log shows the whole repository.
  auto imported = repo::import_audit(repo, repo::AuditImport::new_only);
  if (!imported) return ctx.out.error(imported.error());
  for (auto& p : imported->problems) ctx.out.warn(p);
  catalog::AuditFilter filter;
  filter.since = *since;
  auto rows = repo.catalog().list_audit(filter, catalog::Catalog::AuditOrder::time);
  if (!rows) return ctx.out.error(rows.error());
  for (auto& r : *rows) {
    if (ctx.out.json()) {
      ctx.out.emit("audit_entry", entry_json(r));
      continue;
    }
    std::string line = r.time.substr(0, 19) + "  " + r.user + "(" + std::to_string(r.uid) + ")@" +
                       r.host + "  " + std::to_string(r.result) + "  " + r.command;
    auto args = join(parse_array(r.args));
    if (!args.empty()) line += "  [" + args + "]";
    if (!r.keyed) line += "  (without a valid key)";
    ctx.out.data(line);
  }
  return 0;
}

int verify(Context& ctx) {
  auto report = repo::verify_audit(*ctx.repo);
  if (!report) return ctx.out.error(report.error());
  const auto& r = *report;
  if (ctx.out.json()) {
    ctx.out.emit("audit_verify", {{"entries", r.entries},
                                  {"chains", r.chains},
                                  {"imported", r.imported},
                                  {"pending", r.pending},
                                  {"unmirrored", r.unmirrored},
                                  {"anchors", r.anchors},
                                  {"anchors_unread", r.anchors_unread},
                                  {"problems", r.problems},
                                  {"ok", r.problems.empty()}});
  } else if (r.problems.empty()) {
    ctx.out.info(
        "audit log ok: " + std::to_string(r.entries) + " entries in " + std::to_string(r.chains) +
        " chain(s), " + std::to_string(r.anchors) + " anchor(s) in snapshots and WAL entries" +
        (r.anchors_unread ? " (" + std::to_string(r.anchors_unread) + " not readable)" : "") +
        (r.unmirrored ? ", " + std::to_string(r.unmirrored) + " not yet in storage" : "") +
        (r.pending ? ", " + std::to_string(r.pending) + " pending" : ""));
  }
  return report_problems(ctx, r);
}

int export_log(Context& ctx, const AuditOptions& o) {
  // Verified first: the officer gets the entries and whether they hold up.
  auto report = repo::verify_audit(*ctx.repo);
  if (!report) return ctx.out.error(report.error());
  auto rows = ctx.repo->catalog().list_audit({}, catalog::Catalog::AuditOrder::time);
  if (!rows) return ctx.out.error(rows.error());
  std::ostringstream out;
  if (o.format == "csv") {
    out << "time,user,uid,host,command,args,result,snapshots,keys,keyed,chain,seq,mac\r\n";
    for (auto& r : *rows) {
      out << csv_field(r.time) << ',' << csv_field(r.user) << ',' << r.uid << ','
          << csv_field(r.host) << ',' << csv_field(r.command) << ','
          << csv_field(join(parse_array(r.args))) << ',' << r.result << ','
          << csv_field(join(parse_array(r.snapshots))) << ','
          << csv_field(join(parse_array(r.keys))) << ',' << (r.keyed ? "true" : "false") << ','
          << r.chain << ',' << (r.seq ? std::to_string(*r.seq) : "") << ',' << r.mac << "\r\n";
    }
  } else {
    for (auto& r : *rows) out << entry_json(r).dump() << '\n';
  }
  if (o.output.empty() || o.output == "-") {
    std::cout << out.str() << std::flush;
  } else {
    auto text = out.str();
    if (auto st = util::write_file_atomic(o.output, util::as_bytes(text)); !st)
      return ctx.out.error(st.error());
    ctx.out.info("exported " + std::to_string(rows->size()) + " audit entries to '" + o.output +
                 "'");
  }
  return report_problems(ctx, *report);
}

}  // namespace

RunFn setup_audit(CLI::App& sub) {
  auto o = std::make_shared<AuditOptions>();
  auto* log_cmd = sub.add_subcommand("log", "show the audit log, oldest first");
  log_cmd->add_option("--since", o->since, "only entries at or after this date or RFC 3339 time");
  auto* verify_cmd = sub.add_subcommand(
      "verify", "check the audit chains and that the catalog and the storage agree");
  auto* export_cmd = sub.add_subcommand("export", "write the whole audit log, verified, to a file");
  export_cmd->add_option("-o,--output", o->output, "the file to write (default: stdout)");
  export_cmd->add_option("--format", o->format, "jsonl (default) or csv")
      ->check(CLI::IsMember({"jsonl", "csv"}));
  sub.require_subcommand(1);
  return [=](Context& ctx) {
    if (log_cmd->parsed()) return log(ctx, *o);
    if (verify_cmd->parsed()) return verify(ctx);
    (void)export_cmd;
    return export_log(ctx, *o);
  };
}

}  // namespace bkp::cli
