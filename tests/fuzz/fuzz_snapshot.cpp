// repo::Snapshot::decode: a snapshot manifest's plaintext (CBOR).
#include "fuzz_util.hpp"
#include "repo/snapshot.hpp"

using namespace bkp;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto s = repo::Snapshot::decode(fuzz::input(data, size));
  fuzz::check_error(s, "Snapshot::decode");
  if (!s) return 0;
  auto again = repo::Snapshot::decode(s->encode());
  fuzz::check(again.ok(), "an encoded snapshot decodes");
  // Compared as encodings: stats may hold NaN, which never equals itself.
  fuzz::check(again->encode() == s->encode(), "snapshot round trip keeps every field");
  return 0;
}
