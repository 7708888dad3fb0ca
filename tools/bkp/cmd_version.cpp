#include <CLI/CLI.hpp>

#include "bkp_build_config.hpp"
#include "command.hpp"

namespace bkp::cli {

namespace {

struct Feature {
  const char* name;
  const char* kind;
  bool built;
};

// "local" and "files" are always there; the rest follow meson's features.
constexpr Feature kFeatures[] = {
    {"local", "storage", true},      {"s3", "storage", BKP_HAVE_S3 != 0},
    {"azure", "storage", BKP_HAVE_AZURE != 0},   {"gcs", "storage", BKP_HAVE_GCS != 0},
    {"files", "source", true},       {"postgres", "source", BKP_HAVE_POSTGRES != 0},
    {"mysql", "source", BKP_HAVE_MYSQL != 0},    {"mongodb", "source", BKP_HAVE_MONGODB != 0},
};

}  // namespace

RunFn setup_version(CLI::App& sub) {
  auto features = std::make_shared<bool>(false);
  sub.add_flag("--features", *features, "list the storage backends and sources compiled in");
  return [features](Context& ctx) {
    if (ctx.out.json()) {
      nlohmann::json j{{"version", BKP_VERSION}};
      if (*features) {
        nlohmann::json list = nlohmann::json::array();
        for (auto& f : kFeatures)
          list.push_back({{"name", f.name}, {"kind", f.kind}, {"enabled", f.built}});
        j["features"] = list;
      }
      ctx.out.emit("version", j);
      return 0;
    }
    ctx.out.data(std::string("bkp ") + BKP_VERSION);
    if (*features) {
      for (auto& f : kFeatures) {
        ctx.out.data(std::string(f.kind) + " " + f.name + ": " + (f.built ? "yes" : "no"));
      }
    }
    return 0;
  };
}

}  // namespace bkp::cli
