// repo::open_pack_header: the sealed header at the end of every pack. The
// first input byte picks what the rest is:
//   0: a whole header envelope, opened as read from storage (fuzzes the
//      envelope checks: magic, format, key lookup, authentication);
//   1: the header plaintext, sealed here with the keyring's current key, so
//      the fuzzer reaches the version byte and blob list behind the tag;
//   2: the same sealed under a key id the keyring does not hold.
#include <algorithm>

#include "fuzz_util.hpp"
#include "repo/pack.hpp"

using namespace bkp;

namespace {

const repo::Keyring& keyring() {
  static const repo::Keyring k = [] {
    repo::Keyring r;
    repo::DataKey dk;
    dk.id = {1, 2, 3, 4, 5, 6, 7, 8};
    dk.key = fuzz::fixed_key(0x40);
    r.current = dk.id;
    r.data_keys.push_back(std::move(dk));
    r.chunk_id_key = fuzz::fixed_key(0x10);
    r.chunker_seed = fuzz::fixed_key(0x20);
    return r;
  }();
  return k;
}

const util::Bytes kBinding = util::to_bytes("bkp pack header");

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  auto rest = fuzz::input(data + 1, size - 1);
  const auto& ring = keyring();
  util::Bytes envelope;
  switch (data[0]) {
    case 0:
      envelope.assign(rest.begin(), rest.end());
      break;
    case 1:
      envelope = repo::seal_object(repo::ObjectType::pack_header, ring.current,
                                   ring.current_key().key, rest, kBinding);
      break;
    case 2:
      envelope =
          repo::seal_object(repo::ObjectType::pack_header, repo::KeyId{9, 9, 9, 9, 9, 9, 9, 9},
                            ring.current_key().key, rest, kBinding);
      break;
    default:
      return -1;  // not a mode: keep it out of the corpus
  }
  auto entries = repo::open_pack_header(envelope, ring);
  fuzz::check_error(entries, "open_pack_header");
  if (data[0] == 2) fuzz::check(!entries.ok(), "a header under an unknown key is refused");
  if (!entries) return 0;
  // A header that opens is its version byte and an exact blob list.
  fuzz::check(!rest.empty() || data[0] == 0, "an empty header is refused");
  if (data[0] == 1) {
    util::Bytes plain{rest[0]};
    util::append(plain, repo::encode_pack_entries(*entries));
    fuzz::check(plain.size() == rest.size() && std::equal(plain.begin(), plain.end(), rest.begin()),
                "an opened header is exactly its version and blob list");
  }
  return 0;
}
