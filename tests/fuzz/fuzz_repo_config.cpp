// repo::RepoConfig::decode: the plaintext JSON "config" object, the first
// thing bkp reads from a repository, before any key is known.
#include "fuzz_util.hpp"
#include "repo/repo_config.hpp"

using namespace bkp;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto c = repo::RepoConfig::decode(fuzz::input(data, size));
  fuzz::check_error(c, "RepoConfig::decode");
  if (!c) return 0;
  // What decodes must encode and decode to the same values.
  auto again = repo::RepoConfig::decode(c->encode());
  fuzz::check(again.ok(), "an encoded config decodes");
  fuzz::check(again->version == c->version && again->id == c->id && again->created == c->created &&
                  again->chunker.min_size == c->chunker.min_size &&
                  again->chunker.avg_size == c->chunker.avg_size &&
                  again->chunker.max_size == c->chunker.max_size &&
                  again->compression.codec == c->compression.codec &&
                  again->compression.level == c->compression.level &&
                  again->pack_size == c->pack_size,
              "config round trip keeps every field");
  return 0;
}
