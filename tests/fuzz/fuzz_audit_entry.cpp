// repo::decode_audit_entry: an audit log entry's plaintext (JSON).
#include "fuzz_util.hpp"
#include "repo/audit_entry.hpp"

using namespace bkp;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto e = repo::decode_audit_entry(fuzz::input(data, size));
  fuzz::check_error(e, "decode_audit_entry");
  if (!e) return 0;
  auto again = repo::decode_audit_entry(repo::encode_audit_entry(*e));
  fuzz::check(again.ok(), "an encoded audit entry decodes");
  fuzz::check(repo::encode_audit_entry(*again) == repo::encode_audit_entry(*e),
              "audit entry round trip keeps every field");
  return 0;
}
