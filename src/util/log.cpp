#include "util/log.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>

namespace bandsync::util {

bool configure_logging(std::string_view level, bool json_lines) {
  auto lvl = spdlog::level::from_str(std::string(level));
  // from_str maps unknown names to "off"; only accept "off" when asked for.
  if (lvl == spdlog::level::off && level != "off") return false;
  auto logger = spdlog::stderr_color_mt("bandsync");
  spdlog::set_default_logger(logger);
  spdlog::set_level(lvl);
  if (json_lines) {
    spdlog::set_pattern(R"({"time":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","msg":"%v"})",
                        spdlog::pattern_time_type::utc);
  } else {
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%-5l%$ %v");
  }
  return true;
}

}  // namespace bandsync::util
