// repo::KeySlot::decode: the plaintext JSON key slots ("keys/<id>"), read
// before the repository is unlocked.
#include "fuzz_util.hpp"
#include "repo/key_slot.hpp"

using namespace bkp;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto s = repo::KeySlot::decode(fuzz::input(data, size));
  fuzz::check_error(s, "KeySlot::decode");
  if (!s) return 0;
  auto again = repo::KeySlot::decode(s->encode());
  fuzz::check(again.ok(), "an encoded key slot decodes");
  fuzz::check(again->id == s->id && again->role == s->role && again->kind == s->kind &&
                  again->wrapped == s->wrapped && again->created == s->created &&
                  again->hostname == s->hostname && again->username == s->username,
              "key slot round trip keeps every field");
  if (s->kind == repo::SlotKind::passphrase) {
    fuzz::check(again->kdf.opslimit == s->kdf.opslimit && again->kdf.memlimit == s->kdf.memlimit &&
                    again->kdf.salt == s->kdf.salt,
                "key slot round trip keeps the kdf parameters");
  }
  return 0;
}
