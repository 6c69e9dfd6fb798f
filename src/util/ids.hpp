#pragma once
// Random identifiers in the shape socket.io uses: 20 characters of URL-safe
// base64 (120 bits of entropy), unguessable so a sid cannot be hijacked.

#include <string>

namespace bandsync::util {

// Bytes come from the kernel CSPRNG (getrandom), read in blocks per thread so an
// id costs no system call in the common case.
std::string random_id(size_t length = 20);

}  // namespace bandsync::util
