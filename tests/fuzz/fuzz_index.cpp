// repo::decode_index: an index segment's plaintext, which the catalog's
// chunk index is rebuilt from.
#include <algorithm>

#include "fuzz_util.hpp"
#include "repo/index_segment.hpp"

using namespace bkp;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto in = fuzz::input(data, size);
  auto packs = repo::decode_index(in);
  fuzz::check_error(packs, "decode_index");
  if (!packs) return 0;
  auto out = repo::encode_index(*packs);
  fuzz::check(std::equal(in.begin(), in.end(), out.begin(), out.end()),
              "encode_index(decode_index(x)) == x");
  return 0;
}
