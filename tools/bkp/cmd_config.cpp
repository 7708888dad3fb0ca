#include <CLI/CLI.hpp>

#include "command.hpp"

namespace bkp::cli {

RunFn setup_config(CLI::App& sub) {
  auto origin = std::make_shared<bool>(false);
  auto* show = sub.add_subcommand("show", "print the effective configuration, secrets redacted");
  show->add_flag("--origin", *origin, "say where each value came from");
  sub.require_subcommand(1);
  return [origin](Context& ctx) {
    for (auto& key : config::all_keys()) {
      const auto* v = ctx.config.find(key.key);
      std::string text = v ? config::redact(key, v->text) : "";
      if (ctx.out.json()) {
        nlohmann::json j{{"key", key.key}, {"value", v ? nlohmann::json(text) : nlohmann::json()}};
        if (v) {
          j["origin"] = config::origin_name(v->origin);
          if (!v->source.empty()) j["source"] = v->source;
        }
        ctx.out.emit("config", j);
        continue;
      }
      if (!v) continue;
      std::string line = std::string(key.key) + " = " + text;
      if (*origin) {
        line += "    # " + std::string(config::origin_name(v->origin));
        if (!v->source.empty()) line += " (" + v->source + ")";
      }
      ctx.out.data(line);
    }
    return 0;
  };
}

}  // namespace bkp::cli
