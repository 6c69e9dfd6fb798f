#pragma once
// Server configuration (EVENTS.md "Configuration"): defaults, then a .env
// file, then the environment, then command-line flags, later ones winning —
// as dotenv (which never overrides the environment) plus flags.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace bandsync::app {

struct config {
  std::string host = "::";
  uint16_t port = 3001;
  std::vector<std::string> cors_origins{"*"};
  std::optional<std::string> redis_host;
  uint16_t redis_port = 6379;
  std::string redis_password;
  int redis_db = 0;
  std::chrono::milliseconds ping_interval{10000};
  std::chrono::milliseconds ping_timeout{5000};
  size_t max_buffer_size = 1000000;
  int64_t rate_limit_window_ms = 900000;
  uint32_t rate_limit_max = 1000;
  std::string log_level = "info";
  bool log_json = false;
  std::chrono::milliseconds metrics_interval{30000};
  std::chrono::milliseconds session_idle{1800000};
  std::chrono::milliseconds sweep_interval{300000};
  std::chrono::milliseconds connect_timeout{45000};
  // A play without `at` starts this much later (docs/EVENTS.md "Clock").
  std::chrono::milliseconds play_lead{0};
  // Engine.IO admission per client address (engineio/address_limits.hpp).
  double handshake_rate = 100;
  double handshake_burst = 1000;
  size_t max_connections_per_address = 10000;
  std::chrono::milliseconds header_timeout{10000};
  bool serve_client = true;
  uint32_t health_rate_limit_max = 600;  // per IP per minute
  std::string metrics_token;             // empty: /metrics is public
  // Session creation limits (domain::creation_limits): token buckets.
  uint32_t session_create_burst = 20;
  uint32_t session_create_per_minute = 10;
  uint32_t session_create_address_burst = 1000;
  uint32_t session_create_address_per_minute = 600;
  // socketio::recovery_options::window; 0 = connection state recovery off.
  std::chrono::milliseconds recovery_window{120000};
  // domain::service_options::leader_grace_ms; 0 = the lead passes at once.
  std::chrono::milliseconds leader_grace{10000};
  // Cluster mode (docs/EVENTS.md "Cluster"): on with CLUSTER=true or a
  // NODE_ID; needs REDIS_HOST. node_id empty = a random one at start.
  bool cluster = false;
  std::string node_id;
};

// One configuration variable: its name, default and meaning (for --help).
struct variable {
  const char* name;
  const char* default_value;
  const char* help;
};
const std::vector<variable>& variables();

// Parses KEY=VALUE lines (comments, blank lines, `export `, quotes); missing
// file → empty map.
std::map<std::string, std::string> read_env_file(const std::string& path);

// Builds the configuration from raw values (name → text, already merged in
// precedence order). Returns the config, or one message per bad value.
struct config_result {
  config cfg;
  std::vector<std::string> errors;
};
config_result make_config(const std::map<std::string, std::string>& values);

}  // namespace bandsync::app
