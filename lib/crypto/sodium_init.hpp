// libsodium must be initialised before use; every entry point of this module
// that touches libsodium calls ensure_sodium() first.
#pragma once

namespace bkp::crypto::detail {

// Thread-safe and idempotent (a function-local static initialises once).
void ensure_sodium();

}  // namespace bkp::crypto::detail
