// The one table of configuration keys. It drives the TOML parser, the
// environment lookup, `bkp config show` and the key list in bkp.toml(5).
#pragma once

#include <span>
#include <string_view>

namespace bkp::config {

enum class ValueType { string, integer, boolean, duration, path, list };
enum class Sensitivity { plain, secret };

struct KeyInfo {
  std::string_view key;        // dotted TOML path, e.g. "repository"
  std::string_view env;        // bkp's own variable, e.g. "BKP_REPOSITORY"
  std::string_view alias_env;  // a name users bring (MISSION.md), or empty
  ValueType type;
  std::string_view default_value;  // as text; empty means unset
  std::string_view help;
  Sensitivity sensitivity = Sensitivity::plain;
};

std::span<const KeyInfo> all_keys();
// A key, or the pattern it instantiates: "retention.source.<name>.keep_last"
// matches "retention.source.db1.keep_last" (patterns have no environment
// variable and no default).
const KeyInfo* find_key(std::string_view key);
inline constexpr std::string_view kNamePlaceholder = "<name>";
bool is_pattern(const KeyInfo& key);
// The <name> part of `key`, an instance of pattern `k`.
std::string_view pattern_name(const KeyInfo& k, std::string_view key);
std::string_view type_name(ValueType t);

}  // namespace bkp::config
