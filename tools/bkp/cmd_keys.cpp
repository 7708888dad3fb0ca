// bkp keys list|add|remove|rotate: the key slots that open the repository
// and the data keys that seal its objects. The logic is in
// lib/repo/repository_keys.cpp; this file parses options and prints.
#include <CLI/CLI.hpp>

#include <cstdio>

#include "command.hpp"
#include "engine/reencrypt.hpp"
#include "engine/retention.hpp"
#include "keys_shred.hpp"
#include "repository_access.hpp"
#include "util/time.hpp"

namespace bkp::cli {

namespace {

struct KeysOptions {
  std::string role = "admin";
  std::string id;
  bool rewrap = false;
  bool reencrypt = false;
  std::string retire;
  std::string grace;
  bool dry_run = false;
  NewSecret secret;
};

std::string kind_name(repo::SlotKind k) {
  return k == repo::SlotKind::passphrase ? "passphrase" : "key_file";
}

nlohmann::json slot_json(const repo::KeySlot& s, bool current) {
  return {{"id", s.id},           {"role", s.role},         {"kind", kind_name(s.kind)},
          {"created", s.created}, {"hostname", s.hostname}, {"username", s.username},
          {"current", current}};
}

void add_new_secret_options(CLI::App& app, NewSecret& n) {
  app.add_option("--new-password-file", n.password_file,
                 "the new passphrase is the first line of FILE (else asked twice)");
  app.add_option("--new-key-file", n.key_file, "the new secret is the key file FILE");
  app.add_flag("--generate-key-file", n.generate_key_file,
               "create --new-key-file (mode 0600; it must not exist) with a new random key");
  app.add_option("--new-key-command", n.key_command,
                 "run CMD (no shell) and use the key it prints as the new secret");
}

int list(Context& ctx) {
  auto& repo = *ctx.repo;
  auto slots = repo.list_key_slots();
  if (!slots) return ctx.out.error(slots.error());
  auto& ring = repo.keyring();
  if (ctx.out.json()) {
    for (auto& s : *slots) ctx.out.emit("key_slot", slot_json(s, s.id == repo.slot().id));
    nlohmann::json keys = nlohmann::json::array();
    for (auto& k : ring.data_keys) {
      keys.push_back({{"id", util::to_hex(k.id)},
                      {"created", util::format_rfc3339(k.created_ns)},
                      {"current", k.id == ring.current}});
    }
    nlohmann::json domains = nlohmann::json::array(), shredded = nlohmann::json::array();
    for (auto& d : ring.domains)
      domains.push_back({{"name", d.name}, {"key", util::to_hex(d.data_key)}});
    for (auto& d : ring.shredded) {
      shredded.push_back({{"name", d.name},
                          {"key", util::to_hex(d.data_key)},
                          {"shredded", util::format_rfc3339(d.shredded_ns)}});
    }
    ctx.out.emit("keyring", {{"generation", ring.generation},
                             {"current_key", util::to_hex(ring.current)},
                             {"data_keys", keys},
                             {"domains", domains},
                             {"shredded_domains", shredded}});
    return 0;
  }
  char line[512];
  std::snprintf(line, sizeof line, "  %-16s  %-7s  %-10s  %-19s  %s", "ID", "ROLE", "KIND",
                "CREATED", "HOST/USER");
  ctx.out.data(line);
  for (auto& s : *slots) {
    std::string when = s.created.substr(0, 19);
    if (when.size() > 10) when[10] = ' ';
    std::snprintf(line, sizeof line, "%c %-16s  %-7s  %-10s  %-19s  %s",
                  s.id == repo.slot().id ? '*' : ' ', s.id.c_str(), s.role.c_str(),
                  kind_name(s.kind).c_str(), when.c_str(), (s.hostname + "/" + s.username).c_str());
    ctx.out.data(line);
  }
  ctx.out.info("keyring generation " + std::to_string(ring.generation) + ", " +
               std::to_string(ring.data_keys.size()) + " data key(s), current " +
               util::to_hex(ring.current));
  for (auto& d : ring.domains)
    ctx.out.info("key domain '" + d.name + "': data key " + util::to_hex(d.data_key));
  for (auto& d : ring.shredded)
    ctx.out.info("key domain '" + d.name + "': shredded " + util::format_rfc3339(d.shredded_ns));
  return 0;
}

int add(Context& ctx, const KeysOptions& o) {
  auto role = repo::parse_role(o.role);
  if (!role) return ctx.out.error(role.error());
  // Checked before a new secret is asked for or a key file generated.
  if (auto st = ctx.repo->may_manage_keys(); !st) return ctx.out.error(st.error());
  auto credentials = read_new_credentials(o.secret);
  if (!credentials) return ctx.out.error(credentials.error());
  auto slot = ctx.repo->add_key_slot(*credentials, *role);
  if (!slot) return ctx.out.error(slot.error());
  ctx.audit.keys.push_back("slot:" + slot->id);
  if (ctx.out.json()) {
    ctx.out.emit("key_added", slot_json(*slot, false));
  } else {
    ctx.out.info("added key slot " + slot->id + " (" + slot->role + ", " + kind_name(slot->kind) +
                 ")");
  }
  return 0;
}

int remove(Context& ctx, const KeysOptions& o) {
  ctx.audit.keys.push_back("slot:" + o.id);
  if (auto st = ctx.repo->remove_key_slot(o.id); !st) return ctx.out.error(st.error());
  if (ctx.out.json()) {
    ctx.out.emit("key_removed", {{"id", o.id}});
  } else {
    ctx.out.info("removed key slot " + o.id);
  }
  return 0;
}

util::Result<engine::ReencryptOptions> reencrypt_options(Context& ctx, const KeysOptions& o) {
  using util::ErrorKind;
  engine::ReencryptOptions r;
  if (o.rewrap) return util::fail(ErrorKind::usage, "--reencrypt and --rewrap are separate runs");
  if (!o.retire.empty()) {
    r.retire = repo::parse_key_id(o.retire);
    if (!r.retire) {
      return util::fail(
          ErrorKind::usage,
          "'" + o.retire + "' is not a data key id (16 hex digits, see bkp keys list)");
    }
  }
  // The same grace as prune's: old packs go through its two-phase deletion.
  std::string grace = !o.grace.empty() ? o.grace : ctx.config.get("prune.grace").value_or("");
  if (grace == "0") {
    r.grace_ns = 0;
  } else if (!grace.empty()) {
    BKP_ASSIGN(r.grace_ns, engine::parse_duration(grace));
  }
  // And prune's lease, which the pack rewriting takes.
  if (auto lease = ctx.config.get("prune.lease"); lease && !lease->empty()) {
    BKP_ASSIGN(r.lease_ns, engine::parse_duration(*lease));
    if (r.lease_ns < 1'000'000'000)
      return util::fail(ErrorKind::usage, "prune.lease must be at least 1s");
  }
  r.dry_run = o.dry_run ? engine::DryRun::yes : engine::DryRun::no;
  return r;
}

std::string count_text(const engine::ReencryptPlan& plan) {
  std::string out;
  std::uint64_t bytes = 0;
  for (auto& [kind, c] : plan.rewrite) {
    out += (out.empty() ? "" : ", ") + std::to_string(c.objects) + " " + kind;
    bytes += c.bytes;
  }
  if (out.empty()) return "nothing to rewrite";
  return out + " (" + std::to_string(bytes) + " bytes)";
}

int reencrypt(Context& ctx, const KeysOptions& o) {
  auto options = reencrypt_options(ctx, o);
  if (!options) return ctx.out.error(options.error());
  auto plan = engine::reencrypt_repository(*ctx.repo, *options);
  if (!plan) return ctx.out.error(plan.error());
  if (plan->rotated && !o.dry_run) ctx.audit.keys.push_back("key:" + util::to_hex(plan->current));
  for (auto& k : plan->retiring) ctx.audit.keys.push_back("key:" + util::to_hex(k));
  if (ctx.out.json()) {
    ctx.out.emit(o.dry_run ? "reencrypt_plan" : "keys_reencrypted", plan->to_json());
    return 0;
  }
  std::string keys;
  for (auto& k : plan->retiring) keys += (keys.empty() ? "" : ", ") + util::to_hex(k);
  if (plan->retiring.empty()) {
    ctx.out.info("no data key to retire: every object is sealed with the current key " +
                 util::to_hex(plan->current));
    return 0;
  }
  if (o.dry_run) {
    if (plan->rotated) ctx.out.data("would make a new data key current first");
    ctx.out.data("would retire " + keys + ": " + count_text(*plan));
    return 0;
  }
  if (plan->rotated) ctx.out.info("new data key " + util::to_hex(plan->current) + " is current");
  ctx.out.info("retiring " + keys + ": rewrote " + count_text(*plan));
  for (auto& k : plan->destroyed) ctx.out.info("destroyed data key " + util::to_hex(k));
  for (auto& w : plan->waiting) ctx.out.info(w);
  return 0;
}

int rotate(Context& ctx, const KeysOptions& o) {
  if (auto st = ctx.repo->may_manage_keys(); !st) return ctx.out.error(st.error());
  if (o.reencrypt) return reencrypt(ctx, o);
  if (!o.retire.empty() || o.dry_run || !o.grace.empty()) {
    return ctx.out.error(util::make_error(util::ErrorKind::usage,
                                          "--retire, --grace and --dry-run need --reencrypt"));
  }
  bool secret_given = !o.secret.password_file.empty() || !o.secret.key_file.empty() ||
                      !o.secret.key_command.empty() || o.secret.generate_key_file;
  if (secret_given && !o.rewrap) {
    return ctx.out.error(
        util::make_error(util::ErrorKind::usage, "a new secret is only used with --rewrap"));
  }
  std::optional<repo::Credentials> credentials;
  if (o.rewrap) {
    auto c = read_new_credentials(o.secret);
    if (!c) return ctx.out.error(c.error());
    credentials = std::move(*c);
  }
  auto rot = ctx.repo->rotate_keys(credentials);
  if (!rot) return ctx.out.error(rot.error());
  ctx.audit.keys.push_back("key:" + util::to_hex(rot->new_key));
  if (rot->new_slot) ctx.audit.keys.push_back("slot:" + rot->new_slot->id);
  for (auto& s : rot->removed_slots) ctx.audit.keys.push_back("slot:" + s);
  for (auto& e : rot->cleanup_errors) ctx.out.warn(e);
  if (ctx.out.json()) {
    nlohmann::json j{{"generation", rot->generation}, {"current_key", util::to_hex(rot->new_key)}};
    if (rot->new_slot) {
      j["new_slot"] = rot->new_slot->id;
      j["removed_slots"] = rot->removed_slots;
    }
    ctx.out.emit("keys_rotated", j);
  } else {
    ctx.out.info("new data key " + util::to_hex(rot->new_key) + " (keyring generation " +
                 std::to_string(rot->generation) + ")");
    if (rot->new_slot) {
      ctx.out.info("new master key in key slot " + rot->new_slot->id + "; removed " +
                   std::to_string(rot->removed_slots.size()) +
                   " slot(s) holding the old one: add other secrets again with 'bkp keys add'");
    }
  }
  return rot->cleanup_errors.empty() ? 0 : 1;
}

}  // namespace

RunFn setup_keys(CLI::App& sub) {
  auto o = std::make_shared<KeysOptions>();
  auto* list_cmd = sub.add_subcommand("list", "list the key slots and the keyring's data keys");
  auto* add_cmd = sub.add_subcommand("add", "add a key slot for a new passphrase or key");
  add_cmd->add_option("--role", o->role, "admin (default), restore or backup")
      ->check(CLI::IsMember({"admin", "backup", "restore"}));
  add_new_secret_options(*add_cmd, o->secret);
  auto* remove_cmd = sub.add_subcommand("remove", "remove a key slot");
  remove_cmd->add_option("id", o->id, "the slot's id, as 'bkp keys list' shows it")->required();
  auto* rotate_cmd =
      sub.add_subcommand("rotate", "make a new data key current; with --rewrap, a new master key");
  rotate_cmd->add_flag("--rewrap", o->rewrap,
                       "also replace the master key: the new secret gets the only admin slot");
  add_new_secret_options(*rotate_cmd, o->secret);
  rotate_cmd->add_flag("--reencrypt", o->reencrypt,
                       "seal everything sealed with an old data key again with the current one, "
                       "then destroy the old keys");
  rotate_cmd->add_option("--retire", o->retire,
                         "with --reencrypt: retire only data key KEY_ID (if current, a new one "
                         "becomes current first)");
  rotate_cmd->add_option("--grace", o->grace,
                         "with --reencrypt: as prune's --grace (default 6h; 0: at once)");
  rotate_cmd->add_flag("--dry-run", o->dry_run,
                       "with --reencrypt: print what would be rewritten, change nothing");
  auto shred_args = std::make_shared<ShredArgs>();
  auto* shred_cmd = add_keys_shred(sub, shred_args);
  sub.require_subcommand(1);
  return [=](Context& ctx) {
    if (shred_cmd->parsed()) return run_keys_shred(ctx, *shred_args);
    if (list_cmd->parsed()) return list(ctx);
    if (add_cmd->parsed()) return add(ctx, *o);
    if (remove_cmd->parsed()) return remove(ctx, *o);
    (void)rotate_cmd;
    return rotate(ctx, *o);
  };
}

}  // namespace bkp::cli
