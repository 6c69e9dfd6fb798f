#include "util/log.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include "util/json_string.hpp"

namespace bandsync::util {
namespace {

// %j: the log message escaped as the inside of a JSON string, so that every
// JSON line parses whatever the message holds (quotes, control characters);
// escaped as the JSON text writer escapes strings (json_string.hpp).
class json_message_flag : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    std::string body;
    append_json_string_body(body, std::string_view(msg.payload.data(), msg.payload.size()));
    dest.append(body.data(), body.data() + body.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<json_message_flag>();
  }
};

}  // namespace

bool configure_logging(std::string_view level, bool json_lines) {
  auto lvl = spdlog::level::from_str(std::string(level));
  // from_str maps unknown names to "off"; only accept "off" when asked for.
  if (lvl == spdlog::level::off && level != "off") return false;
  auto logger = spdlog::get("bandsync");
  if (!logger) logger = spdlog::stderr_color_mt("bandsync");
  spdlog::set_default_logger(logger);
  spdlog::set_level(lvl);
  if (json_lines) {
    auto formatter = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
    formatter->add_flag<json_message_flag>('j').set_pattern(
        R"({"time":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","msg":"%j"})");
    spdlog::set_formatter(std::move(formatter));
  } else {
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%-5l%$ %v");
  }
  return true;
}

}  // namespace bandsync::util
