// repo::peek_envelope and repo::open_object: the envelope around every
// sealed object. Input: a mode byte, a type byte, a binding length byte,
// the binding, then the rest.
//   mode 0: the rest is a sealed object as read from storage; peek it and
//           try to open it with a fixed key as `type` under the binding.
//   mode 1: the rest is a plaintext; seal it as `type` under the binding
//           and check that open_object gives it back exactly, and refuses
//           it under another type or binding.
#include <algorithm>

#include "fuzz_util.hpp"
#include "repo/envelope.hpp"

using namespace bkp;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 3) return 0;
  const std::uint8_t mode = data[0];
  const auto type = static_cast<repo::ObjectType>(data[1]);
  const std::size_t binding_size = std::min<std::size_t>(data[2], size - 3);
  const auto binding = fuzz::input(data + 3, binding_size);
  const auto rest = fuzz::input(data + 3 + binding_size, size - 3 - binding_size);
  static const util::SecretBytes key = fuzz::fixed_key(0x40);
  static const repo::KeyId key_id{1, 2, 3, 4, 5, 6, 7, 8};

  if (mode == 0) {
    auto h = repo::peek_envelope(rest);
    fuzz::check_error(h, "peek_envelope");
    auto opened = repo::open_object(type, key, rest, binding);
    fuzz::check_error(opened, "open_object");
    fuzz::check(h.ok() || !opened.ok(), "open_object refuses what peek_envelope refuses");
    if (opened) {
      fuzz::check(h->type == type, "an opened object has the type asked for");
      fuzz::check(rest.size() == opened->size() + repo::envelope_overhead,
                  "an opened object is its plaintext plus the envelope");
    }
    return 0;
  }
  if (mode != 1) return -1;  // not a mode: keep it out of the corpus

  auto sealed = repo::seal_object(type, key_id, key, rest, binding);
  fuzz::check(sealed.size() == rest.size() + repo::envelope_overhead, "sealed size");
  auto h = repo::peek_envelope(sealed);
  fuzz::check(h.ok() && h->type == type && h->key_id == key_id, "peek_envelope of a sealed object");
  auto opened = repo::open_object(type, key, sealed, binding);
  fuzz::check(opened.ok() && std::equal(opened->begin(), opened->end(), rest.begin(), rest.end()),
              "open_object(seal_object(x)) == x");
  const auto other_type = static_cast<repo::ObjectType>(data[1] ^ 1);
  fuzz::check(!repo::open_object(other_type, key, sealed, binding).ok(),
              "open_object refuses another type");
  util::Bytes other_binding(binding.begin(), binding.end());
  other_binding.push_back(0);
  fuzz::check(!repo::open_object(type, key, sealed, other_binding).ok(),
              "open_object refuses another binding");
  // Flipping any one byte of the sealed form must be detected.
  util::Bytes flipped = sealed;
  flipped[rest.empty() ? 0 : (rest[0] % flipped.size())] ^= 0x80;
  fuzz::check(!repo::open_object(type, key, flipped, binding).ok(),
              "open_object refuses a modified object");
  return 0;
}
