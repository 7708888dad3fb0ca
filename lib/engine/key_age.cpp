#include "engine/key_age.hpp"

namespace bkp::engine {

util::Result<std::optional<AgeRotation>> rotate_if_older(repo::Repository& repo,
                                                         std::int64_t max_age_ns,
                                                         std::int64_t now_ns) {
  if (max_age_ns <= 0 || !repo.may_manage_keys()) return std::optional<AgeRotation>{};
  auto& current = repo.keyring().current_key();
  auto age = now_ns - current.created_ns;
  if (age < max_age_ns) return std::optional<AgeRotation>{};
  AgeRotation out;
  out.old_key = current.id;
  out.age_ns = age;
  BKP_ASSIGN(auto rotation, repo.rotate_keys(std::nullopt));
  out.new_key = rotation.new_key;
  out.generation = rotation.generation;
  return std::optional<AgeRotation>(out);
}

}  // namespace bkp::engine
