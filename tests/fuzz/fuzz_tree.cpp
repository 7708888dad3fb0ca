// engine::decode_tree: a directory's tree blob (CBOR), read on every
// restore, verify and incremental backup. corpus/tree/regress-* are inputs
// that once crashed it (a float where an integer belongs: undefined
// behaviour in a cast; 10,000 nested arrays: stack overflow).
#include "engine/tree.hpp"
#include "fuzz_util.hpp"

using namespace bkp;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto in = fuzz::input(data, size);
  auto t = engine::decode_tree(in);
  fuzz::check_error(t, "decode_tree");
  if (!t) return 0;
  // Whatever decodes must survive encode and decode unchanged (compared as
  // encodings: TreeNode has no operator==).
  auto encoded = engine::encode_tree(*t);
  auto again = engine::decode_tree(encoded);
  fuzz::check(again.ok(), "an encoded tree decodes");
  fuzz::check(engine::encode_tree(*again) == encoded, "tree round trip keeps every field");
  return 0;
}
