// repo::Keyring::decode: the binary keyring, after it was opened with the
// master key (a hostile or buggy writer still controls these bytes).
#include <algorithm>

#include "fuzz_util.hpp"
#include "repo/keyring.hpp"

using namespace bkp;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto in = fuzz::input(data, size);
  auto k = repo::Keyring::decode(in);
  fuzz::check_error(k, "Keyring::decode");
  if (!k) return 0;
  fuzz::check(k->find(k->current) != nullptr, "a decoded keyring has its current key");
  // The encoding is canonical: it gives back exactly the input.
  auto out = k->encode();
  fuzz::check(std::equal(in.begin(), in.end(), out.view().begin(), out.view().end()),
              "keyring encode(decode(x)) == x");
  return 0;
}
