#pragma once
// Standard base64 (RFC 4648 section 4, with padding), as Engine.IO v4 uses for
// binary packets carried in HTTP long-polling payloads ("b<base64>").

#include <optional>
#include <string>
#include <string_view>

namespace bandsync::util {

std::string base64_encode(std::string_view bytes);

// Returns std::nullopt when `text` is not canonical padded base64 (wrong
// length, a character outside the alphabet, padding in the middle).
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace bandsync::util
