// Test-only entry point: sealing with a caller-chosen nonce. Production code
// must never use it (nonce reuse under one key breaks GCM completely); it
// exists so known-answer tests can reproduce published vectors.
#pragma once

#include "crypto/aead.hpp"

namespace bkp::crypto::testing {

// `nonce` must be nonce_size bytes. Returns nonce || ciphertext || tag.
util::Bytes seal_with_nonce_for_test(const util::SecretBytes& key, util::ByteView nonce,
                                     util::ByteView plaintext, util::ByteView ad);

}  // namespace bkp::crypto::testing
