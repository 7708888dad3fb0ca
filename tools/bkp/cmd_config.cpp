#include <CLI/CLI.hpp>

#include "command.hpp"

namespace bkp::cli {

RunFn setup_config(CLI::App& sub) {
  auto origin = std::make_shared<bool>(false);
  auto* show = sub.add_subcommand("show", "print the effective configuration, secrets redacted");
  show->add_flag("--origin", *origin, "say where each value came from");
  sub.require_subcommand(1);
  return [origin](Context& ctx) {
    auto print = [&](const config::KeyInfo& key, std::string_view name, const config::Value* v) {
      std::string text = v ? config::redact(key, v->text) : "";
      if (ctx.out.json()) {
        nlohmann::json j{{"key", name}, {"value", v ? nlohmann::json(text) : nlohmann::json()}};
        if (v) {
          j["origin"] = config::origin_name(v->origin);
          if (!v->source.empty()) j["source"] = v->source;
        }
        ctx.out.emit("config", j);
        return;
      }
      if (!v) return;
      std::string line = std::string(name) + " = " + text;
      if (*origin) {
        line += "    # " + std::string(config::origin_name(v->origin));
        if (!v->source.empty()) line += " (" + v->source + ")";
      }
      ctx.out.data(line);
    };
    for (auto& key : config::all_keys()) {
      if (!config::is_pattern(key)) {
        print(key, key.key, ctx.config.find(key.key));
        continue;
      }
      // The pattern itself (so --json lists every key), then each instance.
      if (ctx.out.json()) print(key, key.key, nullptr);
      for (auto& [name, v] : ctx.config.values())
        if (name != key.key && config::find_key(name) == &key) print(key, name, &v);
    }
    return 0;
  };
}

}  // namespace bkp::cli
