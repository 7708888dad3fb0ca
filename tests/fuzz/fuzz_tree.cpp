// engine::decode_tree: a directory's tree blob (CBOR), read on every
// restore, verify and incremental backup.
#include <nlohmann/json.hpp>

#include "engine/tree.hpp"
#include "fuzz_util.hpp"
#include "repo/json_read.hpp"

using namespace bkp;

namespace {

// KNOWN BUGS, left to lib/engine's owner (see tests/fuzz/pending/tree/):
// - decode_tree reads its integers with nlohmann's get<int>(),
//   get<std::uint32_t>(), ..., which convert a CBOR float with static_cast:
//   undefined behaviour when out of range ("v": 1e300, or "t": 1e300 in a
//   node), silent truncation otherwise ("t": 1.5 reads as 1);
// - it parses with json::from_cbor, which recurses per nesting level:
//   10,000 nested arrays overflow the stack under ASan.
// repo::json_integer() and repo::parse_cbor() (repo/json_read.hpp) are the
// fixes lib/repo uses. Until decode_tree uses them, inputs that hold a float
// or nest deeper than repo::kMaxCborDepth are left out here, and the rest
// of the parser is still fuzzed. Set this to false then, and move
// pending/tree/* into corpus/tree/.
constexpr bool kSkipKnownBugs = true;

bool has_float(const nlohmann::json& j) {
  if (j.is_number_float()) return true;
  if (j.is_structured()) {
    for (auto& v : j) {
      if (has_float(v)) return true;
    }
  }
  return false;
}

bool hits_known_bug(util::ByteView in) {
  try {
    return has_float(repo::parse_cbor(in));
  } catch (const nlohmann::json::out_of_range& e) {
    return e.id == 408;  // nested too deep
  } catch (const nlohmann::json::exception&) {
    return false;  // not CBOR: decode_tree must say so
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto in = fuzz::input(data, size);
  if (kSkipKnownBugs && hits_known_bug(in)) return -1;
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
