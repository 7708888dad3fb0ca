// Effective configuration: defaults < config file < environment < command
// line, with the origin of every value recorded (as ccache does), so
// `bkp config show --origin` can say why a value is what it is.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/keys.hpp"
#include "util/result.hpp"

namespace bkp::config {

enum class Origin { default_value, config_file, environment, command_line };
std::string_view origin_name(Origin o);

struct Value {
  std::string text;  // lists are stored newline-separated
  Origin origin = Origin::default_value;
  std::string source;  // file path or variable name
};

class Config {
 public:
  // Reads `explicit_file` if given (it must exist), otherwise the first of
  // /etc/bkp/bkp.toml and ~/.config/bkp/bkp.toml that exists, then the
  // environment. Unknown keys and wrongly typed values are usage errors.
  static util::Result<Config> load(const std::optional<std::filesystem::path>& explicit_file);
  static std::vector<std::filesystem::path> default_search_path();

  void set(std::string_view key, std::string value, Origin origin, std::string source = {});
  std::optional<std::string> get(std::string_view key) const;
  const Value* find(std::string_view key) const;
  bool get_bool(std::string_view key) const;
  std::vector<std::string> get_list(std::string_view key) const;
  const std::map<std::string, Value, std::less<>>& values() const { return values_; }
  const std::optional<std::filesystem::path>& file() const { return file_; }

 private:
  util::Status load_file(const std::filesystem::path& path);
  util::Status load_environment();
  std::map<std::string, Value, std::less<>> values_;
  std::optional<std::filesystem::path> file_;
};

// Parses "true/false/yes/no/on/off/1/0"; nullopt for anything else.
std::optional<bool> parse_bool(std::string_view text);
// Hides credentials: secrets become "<redacted>", and user:password@ or
// signature-like query parameters inside URLs are masked.
std::string redact(const KeyInfo& key, std::string_view value);
std::string redact_url(std::string_view url);

}  // namespace bkp::config
