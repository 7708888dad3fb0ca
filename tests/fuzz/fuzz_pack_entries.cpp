// repo::decode_pack_entries: the blob list inside a pack header and inside
// every index segment.
#include <algorithm>

#include "fuzz_util.hpp"
#include "repo/pack.hpp"

using namespace bkp;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto in = fuzz::input(data, size);
  std::size_t used = 0;
  auto entries = repo::decode_pack_entries(in, used);
  fuzz::check_error(entries, "decode_pack_entries");
  if (!entries) return 0;
  fuzz::check(used <= in.size(), "decode_pack_entries uses no more than its input");
  auto out = repo::encode_pack_entries(*entries);
  fuzz::check(out.size() == used && std::equal(out.begin(), out.end(), in.begin()),
              "encode_pack_entries(decode_pack_entries(x)) == x[0:used]");
  return 0;
}
