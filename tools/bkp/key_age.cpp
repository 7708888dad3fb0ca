// keys.rotate_after for the commands that honour it (backup, prune): the
// decision is lib/engine/key_age.cpp; this reads the setting and reports.
#include "engine/key_age.hpp"
#include "engine/retention.hpp"
#include "repository_access.hpp"
#include "util/time.hpp"

namespace bkp::cli {

void rotate_keys_by_age(Context& ctx) {
  auto text = ctx.config.get("keys.rotate_after");
  if (!text || text->empty() || *text == "0") return;
  auto max_age = engine::parse_duration(*text);
  if (!max_age) {
    ctx.out.warn("keys.rotate_after '" + *text + "': " + max_age.error().message);
    return;
  }
  auto rotated = engine::rotate_if_older(*ctx.repo, *max_age, util::now_ns());
  if (!rotated) {
    ctx.out.warn("rotating the data key (keys.rotate_after): " + rotated.error().message);
    return;
  }
  if (!*rotated) return;
  auto& r = **rotated;
  ctx.audit.keys.push_back("key:" + util::to_hex(r.new_key));
  ctx.out.info("data key " + util::to_hex(r.old_key) + " is older than keys.rotate_after (" +
               *text + "): new data key " + util::to_hex(r.new_key) +
               " is current (keyring generation " + std::to_string(r.generation) + ")");
}

}  // namespace bkp::cli
