#include "repository_access.hpp"

#include <algorithm>
#include <utility>

#include "engine/retention.hpp"
#include "util/text.hpp"

namespace bkp::cli {

using util::ErrorKind;
using util::fail;

util::Result<std::string> repository_location(const Context& ctx) {
  auto loc = ctx.repository();
  if (loc.empty()) {
    return fail(ErrorKind::usage,
                "no repository given: use -r/--repo, BKP_REPOSITORY or 'repository' in bkp.toml");
  }
  return loc;
}

namespace {

// "10M", "512KiB/s", "1048576": bytes per second, with the units of sizes
// (K, M, G, T are powers of 1024) and an optional "/s".
util::Result<std::uint64_t> parse_rate(std::string_view key, std::string_view text) {
  std::string_view number = text;
  if (number.size() > 2 && number.substr(number.size() - 2) == "/s") number.remove_suffix(2);
  auto rate = engine::parse_size(number);
  if (!rate || *rate == 0) {
    return fail(ErrorKind::usage, std::string(key) +
                                      " must be a rate in bytes per second "
                                      "(examples: 10M, 512KiB/s, 1048576), not '" +
                                      std::string(text) + "'");
  }
  return *rate;
}

}  // namespace

util::Result<std::unique_ptr<storage::Backend>> open_storage(const Context& ctx,
                                                             const std::string& location) {
  storage::BackendOptions o;
  o.s3_endpoint = ctx.config.get("s3.endpoint").value_or("");
  o.s3_region = ctx.config.get("s3.region").value_or("");
  o.s3_addressing = ctx.config.get("s3.addressing").value_or("");
  o.s3_access_key_id = ctx.config.get("s3.access_key_id").value_or("");
  o.s3_secret_access_key = ctx.config.get("s3.secret_access_key").value_or("");
  o.s3_session_token = ctx.config.get("s3.session_token").value_or("");
  o.azure_account = ctx.config.get("azure.account").value_or("");
  o.azure_endpoint = ctx.config.get("azure.endpoint").value_or("");
  o.azure_key = ctx.config.get("azure.key").value_or("");
  o.azure_sas_token = ctx.config.get("azure.sas_token").value_or("");
  o.azure_access_tier = ctx.config.get("azure.access_tier").value_or("");
  o.s3_storage_class = ctx.config.get("s3.storage_class").value_or("");
  if (auto t = ctx.config.get("s3.object_lock_days"); t && !t->empty()) {
    // The type was checked when the configuration was read; the range is
    // the backend's to check.
    const long long days = util::parse_number<long long>(*t).value_or(0);
    o.s3_object_lock_days = static_cast<int>(std::clamp<long long>(days, -1, 100000));
  }
  o.s3_object_lock_mode = ctx.config.get("s3.object_lock_mode").value_or("");
  o.gcs_endpoint = ctx.config.get("gcs.endpoint").value_or("");
  o.gcs_credentials_file = ctx.config.get("gcs.credentials_file").value_or("");
  o.gcs_hmac_access_key_id = ctx.config.get("gcs.hmac_access_key_id").value_or("");
  o.gcs_hmac_secret = ctx.config.get("gcs.hmac_secret").value_or("");
  o.gcs_storage_class = ctx.config.get("gcs.storage_class").value_or("");
  o.insecure_http = ctx.config.get_bool("insecure_http");
  for (auto [key, field] : {std::pair{"limit_upload", &o.limit_upload},
                            std::pair{"limit_download", &o.limit_download}}) {
    if (auto t = ctx.config.get(key); t && !t->empty()) {
      BKP_ASSIGN(*field, parse_rate(key, *t));
    }
  }
  if (auto t = ctx.config.get("s3.multipart_threshold"); t && !t->empty()) {
    auto v = util::parse_number<std::uint64_t>(*t);
    if (!v || *v < (std::uint64_t{5} << 20)) {
      return fail(ErrorKind::usage,
                  "s3.multipart_threshold must be a number of bytes of at "
                  "least 5242880 (5 MiB), not '" +
                      *t + "'");
    }
    o.s3_multipart_threshold = *v;
  }
  return storage::open_backend(location, o);
}

namespace {

// The config key `name` under `prefix` ("" for the primary repository's).
std::optional<std::string> secret_setting(const Context& ctx, std::string_view prefix,
                                          std::string_view name) {
  std::string key =
      prefix.empty() ? std::string(name) : std::string(prefix) + "." + std::string(name);
  auto v = ctx.config.get(key);
  if (v && v->empty()) return std::nullopt;
  return v;
}

}  // namespace

util::Result<repo::Credentials> read_credentials(const Context& ctx, Confirm confirm) {
  repo::Credentials c;
  if (auto kf = ctx.config.get("key_file"); kf && !kf->empty()) {
    c.kind = repo::SlotKind::key_file;
    BKP_ASSIGN(c.secret, repo::read_key_file(*kf));
    return c;
  }
  // A key command gives a key like a key file's: both open key-file slots.
  if (auto kc = ctx.config.get("key_command"); kc && !kc->empty()) {
    c.kind = repo::SlotKind::key_file;
    BKP_ASSIGN(c.secret, run_key_command(*kc));
    return c;
  }
  c.kind = repo::SlotKind::passphrase;
  BKP_ASSIGN(c.secret, read_password(ctx, confirm));
  return c;
}

util::Result<repo::Credentials> read_credentials_for(const Context& ctx, std::string_view prefix) {
  auto password_file = secret_setting(ctx, prefix, "password_file");
  auto password_command = secret_setting(ctx, prefix, "password_command");
  auto key_file = secret_setting(ctx, prefix, "key_file");
  auto key_command = secret_setting(ctx, prefix, "key_command");
  int given = bool(password_file) + bool(password_command) + bool(key_file) + bool(key_command);
  if (given == 0) return read_credentials(ctx, Confirm::no);
  if (given > 1) {
    return fail(ErrorKind::usage, "give only one of " + std::string(prefix) + ".password_file, " +
                                      std::string(prefix) + ".password_command, " +
                                      std::string(prefix) + ".key_file and " + std::string(prefix) +
                                      ".key_command");
  }
  repo::Credentials c;
  c.kind = repo::SlotKind::key_file;
  if (key_file) {
    BKP_ASSIGN(c.secret, repo::read_key_file(*key_file));
    return c;
  }
  if (key_command) {
    BKP_ASSIGN(c.secret, run_key_command(*key_command));
    return c;
  }
  c.kind = repo::SlotKind::passphrase;
  if (password_file) {
    BKP_ASSIGN(c.secret, read_password_file(*password_file));
    return c;
  }
  BKP_ASSIGN(c.secret, run_password_command(*password_command));
  return c;
}

util::Result<repo::Credentials> read_new_credentials(const NewSecret& n) {
  int given = !n.password_file.empty() + !n.key_file.empty() + !n.key_command.empty();
  if (given > 1) {
    return fail(ErrorKind::usage,
                "give only one of --new-password-file, --new-key-file and --new-key-command");
  }
  if (n.generate_key_file && n.key_file.empty()) {
    return fail(ErrorKind::usage, "--generate-key-file needs --new-key-file FILE");
  }
  repo::Credentials c;
  if (!n.key_file.empty()) {
    c.kind = repo::SlotKind::key_file;
    if (n.generate_key_file) BKP_TRY(repo::generate_key_file(n.key_file));
    BKP_ASSIGN(c.secret, repo::read_key_file(n.key_file));
    return c;
  }
  if (!n.key_command.empty()) {
    c.kind = repo::SlotKind::key_file;
    BKP_ASSIGN(c.secret, run_key_command(n.key_command));
    return c;
  }
  c.kind = repo::SlotKind::passphrase;
  if (!n.password_file.empty()) {
    BKP_ASSIGN(c.secret, read_password_file(n.password_file));
  } else {
    BKP_ASSIGN(c.secret, prompt_new_password());
  }
  return c;
}

namespace {

// Says "no repository" before asking for a passphrase that cannot help.
util::Status require_config(storage::Backend& backend) {
  auto config = backend.stat("config");
  if (config) return {};
  if (config.error().kind == ErrorKind::not_found) {
    return fail(ErrorKind::no_repository,
                "no repository at '" + backend.describe() + "' (create one with 'bkp init')");
  }
  return fail(config.error());
}

}  // namespace

util::Result<std::unique_ptr<repo::Repository>> open_repository(const Context& ctx) {
  BKP_ASSIGN(auto location, repository_location(ctx));
  BKP_ASSIGN(auto backend, open_storage(ctx, location));
  BKP_TRY(require_config(*backend));
  BKP_ASSIGN(auto credentials, read_credentials(ctx, Confirm::no));
  std::optional<std::filesystem::path> catalog;
  if (auto c = ctx.config.get("catalog"); c && !c->empty()) catalog = *c;
  return repo::Repository::open(std::move(backend), credentials, catalog);
}

util::Result<std::unique_ptr<repo::Repository>> open_repository_at(const Context& ctx,
                                                                   const std::string& location,
                                                                   std::string_view secret_prefix) {
  BKP_ASSIGN(auto backend, open_storage(ctx, location));
  BKP_TRY(require_config(*backend));
  BKP_ASSIGN(auto credentials, read_credentials_for(ctx, secret_prefix));
  // The configured catalog belongs to the primary repository; any other
  // keeps its catalog at the default place for its id.
  std::optional<std::filesystem::path> catalog;
  if (location == ctx.repository()) {
    if (auto c = ctx.config.get("catalog"); c && !c->empty()) catalog = *c;
  }
  auto repo = repo::Repository::open(std::move(backend), credentials, catalog);
  if (!repo) return fail(repo.error().context("'" + config::redact_url(location) + "'"));
  return repo;
}

}  // namespace bkp::cli
