#include <CLI/CLI.hpp>

#include "command.hpp"
#include "repository_access.hpp"

namespace bkp::cli {

namespace {
struct InitOptions {
  std::string location;
  std::string compression;
  bool generate_key_file = false;
  std::string chunking_from;
  bool create_bucket = false;
};

// A cloud location's bucket or container must exist before a repository
// goes in; --create-bucket makes it, else the error says how.
util::Status ensure_container(Context& ctx, storage::Backend& backend, const std::string& location,
                              bool create) {
  auto exists = backend.container_exists();
  // Credentials that may not ask (a container-scoped SAS token): init's
  // own listing says what is wrong, as before this check.
  if (!exists && exists.error().kind == util::ErrorKind::auth) return {};
  if (!exists) return exists.propagate();
  if (*exists) return {};
  const bool azure = backend.kind() == "azure";
  const std::string what =
      std::string(azure ? "container" : "bucket") + " of '" + config::redact_url(location) + "'";
  if (!create) {
    return util::fail(util::ErrorKind::not_found,
                      "the " + what +
                          " does not exist: create it (bkp init --create-bucket does for "
                          "s3:// and azure://, in the configured region)");
  }
  auto made = backend.create_container();
  // Made meanwhile by someone else: the listing in init says whether it
  // is usable.
  if (!made && made.error().kind == util::ErrorKind::exists) return {};
  if (!made) return made;
  ctx.out.info("created the " + what);
  return {};
}

}  // namespace

RunFn setup_init(CLI::App& sub) {
  auto o = std::make_shared<InitOptions>();
  sub.add_option("location", o->location,
                 "where to create it: a path, file:///path, s3://bucket/prefix or "
                 "azure://container/prefix (or -r)");
  sub.add_option("--compression", o->compression,
                 "zstd (default), zstd:LEVEL, lz4 or none (config 'compression')");
  sub.add_flag("--generate-key-file", o->generate_key_file,
               "create the --key-file (it must not exist) and use it instead of a passphrase");
  sub.add_option("--chunking-from", o->chunking_from,
                 "share chunking parameters and the chunk-id key with REPO, so bkp copy between "
                 "them sends only missing chunks (its secret: from.* settings, else this one's)");
  sub.add_flag("--create-bucket", o->create_bucket,
               "create the S3 bucket or Azure container of the location if it does not exist");
  return [o](Context& ctx) {
    if (!o->location.empty()) {
      ctx.config.set("repository", o->location, config::Origin::command_line, "location");
    }
    auto location = repository_location(ctx);
    if (!location) return ctx.out.error(location.error());
    auto backend = open_storage(ctx, *location);
    if (!backend) return ctx.out.error(backend.error());
    if (auto st = ensure_container(ctx, **backend, *location, o->create_bucket); !st)
      return ctx.out.error(st.error());

    repo::InitOptions init;
    auto spec = compress::parse_spec(
        o->compression.empty() ? ctx.config.get("compression").value_or("zstd") : o->compression);
    if (!spec) return ctx.out.error(spec.error());
    init.compression = *spec;
    if (!o->chunking_from.empty()) {
      auto other = open_repository_at(ctx, o->chunking_from, "from");
      if (!other) return ctx.out.error(other.error());
      const auto& k = (*other)->keyring();
      init.chunker = (*other)->config().chunker;
      init.chunking = repo::ChunkingSecrets{k.chunk_id_key, k.chunker_seed};
      // Its secrets were read: its audit log says so.
      ctx.other_repos.push_back(std::move(*other));
    }

    if (o->generate_key_file) {
      auto kf = ctx.config.get("key_file").value_or("");
      if (kf.empty()) {
        return ctx.out.error(
            util::make_error(util::ErrorKind::usage, "--generate-key-file needs --key-file FILE"));
      }
      if (auto st = repo::generate_key_file(kf); !st) return ctx.out.error(st.error());
      ctx.out.info("generated key file '" + kf +
                   "': keep a copy somewhere safe, without it "
                   "the repository cannot be opened");
    }
    auto credentials = read_credentials(ctx, Confirm::yes);
    if (!credentials) return ctx.out.error(credentials.error());
    auto id = repo::Repository::init(**backend, *credentials, init);
    if (!id) return ctx.out.error(id.error());

    // Open it once to create the catalog, so the first backup starts clean.
    std::optional<std::filesystem::path> catalog;
    if (auto c = ctx.config.get("catalog"); c && !c->empty()) catalog = *c;
    auto opened = repo::Repository::open(std::move(*backend), *credentials, catalog);
    if (!opened) return ctx.out.error(opened.error());
    if (ctx.out.json()) {
      ctx.out.emit("init", {{"repository", *location},
                            {"id", *id},
                            {"catalog", (*opened)->catalog_path().string()},
                            {"compression", compress::to_string(init.compression)},
                            {"chunking_from", o->chunking_from}});
    } else {
      ctx.out.info("created repository " + id->substr(0, 8) + " at '" +
                   (*opened)->backend().describe() + "'");
      ctx.out.info("catalog: " + (*opened)->catalog_path().string());
    }
    // The dispatcher records the entry in ctx.repo: init is the first entry
    // of this catalog's audit chain, so the chain starts at the repository's
    // creation and who created it is on record.
    ctx.repo = std::move(*opened);
    return 0;
  };
}

}  // namespace bkp::cli
