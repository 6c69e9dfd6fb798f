#pragma once
// The one JSON string escaper: the JSON text writer (json_text.cpp) and the
// JSON log lines (log.cpp) both use it, so a log line escapes exactly as a
// packet does.

#include <string>
#include <string_view>

namespace bandsync::util {

// Appends `s` escaped as the inside of a JSON string (without the quotes), as
// JSON.stringify escapes it: \" \\ \b \f \n \r \t, other C0 controls as
// \u00XX; every other byte (UTF-8 included) as it is.
void append_json_string_body(std::string& out, std::string_view s);

}  // namespace bandsync::util
