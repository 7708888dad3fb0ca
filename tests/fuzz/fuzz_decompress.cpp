// compress::decompress: a stored chunk with the codec and raw size a pack
// header claims. Input: codec byte (any value: unknown codecs must be
// refused), a u32le raw size, then the compressed bytes.
//
// Raw sizes up to 1 MiB are used as given; larger ones keep their top bit's
// meaning: set, the size is the full 32-bit value (mostly beyond
// compress::max_raw_size, to check the limit); clear, it is reduced to at
// most 2 MiB, so the fuzzer does not spend its time zeroing 64 MiB buffers.
#include <algorithm>

#include "compress/codec.hpp"
#include "fuzz_util.hpp"

using namespace bkp;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 5) return 0;
  const auto codec = static_cast<compress::Codec>(data[0]);
  std::uint32_t raw = util::get_u32le(data + 1);
  std::size_t raw_size = raw;
  if (raw_size > (1u << 20) && !(raw & 0x80000000u)) raw_size = raw % (2u << 20);
  const auto in = fuzz::input(data + 5, size - 5);

  auto out = compress::decompress(codec, in, raw_size);
  fuzz::check_error(out, "decompress");
  if (data[0] > 2 || raw_size > compress::max_raw_size) {
    fuzz::check(!out.ok(), "unknown codecs and oversized chunks are refused");
  }
  if (!out) return 0;
  fuzz::check(out->size() == raw_size, "decompress returns exactly raw_size bytes");
  if (codec == compress::Codec::none) {
    fuzz::check(std::equal(out->begin(), out->end(), in.begin(), in.end()),
                "codec none is the identity");
    return 0;
  }
  // Compressing what came out and decompressing it again gives it back.
  auto packed = compress::compress({codec, 0}, *out);
  if (packed) {
    auto back = compress::decompress(codec, *packed, out->size());
    fuzz::check(back.ok() && *back == *out, "decompress(compress(x)) == x");
  }
  return 0;
}
