#include "config/config.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <cstdlib>
#include <regex>
#include <sstream>

namespace bkp::config {

namespace fs = std::filesystem;
using util::ErrorKind;
using util::fail;

std::string_view origin_name(Origin o) {
  switch (o) {
    case Origin::default_value:
      return "default";
    case Origin::config_file:
      return "config";
    case Origin::environment:
      return "environment";
    case Origin::command_line:
      return "command line";
  }
  return "default";
}

std::optional<bool> parse_bool(std::string_view t) {
  std::string s(t);
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  if (s == "true" || s == "yes" || s == "on" || s == "1") return true;
  if (s == "false" || s == "no" || s == "off" || s == "0") return false;
  return std::nullopt;
}

std::vector<fs::path> Config::default_search_path() {
  std::vector<fs::path> paths{"/etc/bkp/bkp.toml"};
  if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg && *xdg) {
    paths.emplace_back(fs::path(xdg) / "bkp" / "bkp.toml");
  } else if (const char* home = std::getenv("HOME"); home && *home) {
    paths.emplace_back(fs::path(home) / ".config" / "bkp" / "bkp.toml");
  }
  return paths;
}

util::Result<Config> Config::load(const std::optional<fs::path>& explicit_file) {
  Config c;
  for (auto& k : all_keys()) {
    if (!k.default_value.empty()) c.set(k.key, std::string(k.default_value), Origin::default_value);
  }
  if (explicit_file) {
    std::error_code ec;
    if (!fs::exists(*explicit_file, ec)) {
      return fail(ErrorKind::usage, "config file '" + explicit_file->string() + "' does not exist");
    }
    BKP_TRY(c.load_file(*explicit_file));
  } else {
    // The system file is read first and the user's file overrides it.
    for (auto& p : default_search_path()) {
      std::error_code ec;
      if (fs::exists(p, ec)) BKP_TRY(c.load_file(p));
    }
  }
  BKP_TRY(c.load_environment());
  return c;
}

namespace {

// Converts a TOML node to the text form of a value of `type`.
// `name` is the key as written (an instance of a pattern key has its own).
util::Result<std::string> node_text(const toml::node& node, const KeyInfo& key,
                                    std::string_view name) {
  auto bad = [&](std::string_view want) {
    return fail(ErrorKind::usage,
                "config key '" + std::string(name) + "' must be " + std::string(want));
  };
  switch (key.type) {
    case ValueType::boolean:
      if (auto b = node.value<bool>()) return std::string(*b ? "true" : "false");
      return bad("true or false");
    case ValueType::integer:
      if (auto i = node.value<int64_t>()) return std::to_string(*i);
      return bad("an integer");
    case ValueType::list:
      if (auto* arr = node.as_array()) {
        std::string out;
        for (auto& el : *arr) {
          auto s = el.value<std::string>();
          if (!s) return bad("a list of strings");
          if (!out.empty()) out += '\n';
          out += *s;
        }
        return out;
      }
      return bad("a list of strings");
    case ValueType::duration:
      if (auto i = node.value<int64_t>()) return std::to_string(*i) + "s";
      [[fallthrough]];
    case ValueType::string:
    case ValueType::path:
      if (auto s = node.value<std::string>()) return *s;
      return bad("a string");
  }
  return bad("a string");
}

void collect_leaf_keys(const toml::table& table, const std::string& prefix,
                       std::vector<std::pair<std::string, const toml::node*>>& out) {
  for (auto& [k, v] : table) {
    std::string name = prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
    if (auto* sub = v.as_table(); sub && !find_key(name)) {
      collect_leaf_keys(*sub, name, out);
    } else {
      out.emplace_back(name, &v);
    }
  }
}

}  // namespace

util::Status Config::load_file(const fs::path& path) {
  toml::table table;
  try {
    table = toml::parse_file(path.string());
  } catch (const toml::parse_error& e) {
    std::ostringstream msg;
    msg << "config file '" << path.string() << "' line " << e.source().begin.line << ": "
        << e.description();
    return fail(ErrorKind::usage, msg.str());
  }
  std::vector<std::pair<std::string, const toml::node*>> leaves;
  collect_leaf_keys(table, "", leaves);
  for (auto& [name, node] : leaves) {
    const KeyInfo* key = find_key(name);
    if (!key) {
      return fail(ErrorKind::usage,
                  "config file '" + path.string() + "': unknown key '" + name + "'");
    }
    auto text = node_text(*node, *key, name);
    if (!text) return fail(text.error().context("config file '" + path.string() + "'"));
    set(name, *text, Origin::config_file, path.string());
  }
  file_ = path;
  return {};
}

util::Status Config::load_environment() {
  for (auto& k : all_keys()) {
    // bkp's own name wins over the alias users bring from other tools.
    for (auto env : {k.alias_env, k.env}) {
      if (env.empty()) continue;
      const char* v = std::getenv(std::string(env).c_str());
      if (!v || !*v) continue;
      std::string text = v;
      if (env == "BACKUP_COMPRESSION_ENABLED") {
        auto b = parse_bool(text);
        if (!b) return fail(ErrorKind::usage, "BACKUP_COMPRESSION_ENABLED must be true or false");
        if (*b && find(k.key) && find(k.key)->origin != Origin::default_value) continue;
        text = *b ? "zstd" : "none";
      }
      if (env == "BACKUP_RETENTION_DAYS") {
        if (text.find_first_not_of("0123456789") != std::string::npos || text.size() > 6) {
          return fail(ErrorKind::usage, "BACKUP_RETENTION_DAYS must be a whole number of days");
        }
        text += "d";
      }
      if (k.type == ValueType::boolean && !parse_bool(text)) {
        return fail(ErrorKind::usage, std::string(env) + " must be true or false");
      }
      set(k.key, text, Origin::environment, std::string(env));
    }
  }
  return {};
}

void Config::set(std::string_view key, std::string value, Origin origin, std::string source) {
  values_[std::string(key)] = Value{std::move(value), origin, std::move(source)};
}

const Value* Config::find(std::string_view key) const {
  auto it = values_.find(key);
  return it == values_.end() ? nullptr : &it->second;
}

std::optional<std::string> Config::get(std::string_view key) const {
  if (auto* v = find(key)) return v->text;
  return std::nullopt;
}

bool Config::get_bool(std::string_view key) const {
  auto v = get(key);
  return v && parse_bool(*v).value_or(false);
}

std::vector<std::string> Config::get_list(std::string_view key) const {
  std::vector<std::string> out;
  auto v = get(key);
  if (!v || v->empty()) return out;
  std::istringstream in(*v);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

std::string redact_url(std::string_view url) {
  std::string s(url);
  // scheme://user:password@host -> scheme://user:***@host
  static const std::regex userinfo(R"(^([a-zA-Z][a-zA-Z0-9+.-]*://[^/:@]*):[^/@]*@)");
  s = std::regex_replace(s, userinfo, "$1:***@");
  // Query parameters that carry credentials (SAS signatures, tokens, keys).
  static const std::regex secret_param(
      R"(([?&](sig|signature|token|access_token|key|secret|password|X-Amz-Signature|X-Amz-Credential|X-Amz-Security-Token)=)[^&]*)",
      std::regex::icase);
  return std::regex_replace(s, secret_param, "$1***");
}

std::string redact(const KeyInfo& key, std::string_view value) {
  if (key.sensitivity == Sensitivity::secret) return value.empty() ? "" : "<redacted>";
  return redact_url(value);
}

}  // namespace bkp::config
