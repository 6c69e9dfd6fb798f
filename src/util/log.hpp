#pragma once
// Process-wide logging on spdlog: one logger, timestamps and levels, optionally
// JSON lines for log shippers. Configured once at start from LOG_LEVEL.

#include <string_view>

#include <spdlog/spdlog.h>

namespace bandsync::util {

// Returns false (and changes nothing) when `level` is not one of
// trace, debug, info, warn, error, critical, off.
bool configure_logging(std::string_view level, bool json_lines);

}  // namespace bandsync::util
