#include "app/config.hpp"

#include <charconv>
#include <fstream>

namespace bandsync::app {

const std::vector<variable>& variables() {
  static const std::vector<variable> vars = {
      {"PORT", "3001", "listening port"},
      {"HOST", "::", "listening address (:: = every interface, IPv6 and IPv4)"},
      {"CORS_ORIGIN", "*", "allowed origin(s), comma-separated, or *"},
      {"REDIS_HOST", "", "Redis host; unset = embedded in-memory store"},
      {"REDIS_PORT", "6379", "Redis port"},
      {"REDIS_PASSWORD", "", "Redis password (AUTH)"},
      {"REDIS_DB", "0", "Redis database (SELECT)"},
      {"SOCKET_PING_INTERVAL", "10000", "Engine.IO ping interval (ms)"},
      {"SOCKET_PING_TIMEOUT", "5000", "Engine.IO ping timeout (ms)"},
      {"SOCKET_MAX_BUFFER_SIZE", "1000000", "largest accepted message (bytes)"},
      {"RATE_LIMIT_WINDOW", "900000", "per-IP HTTP rate limit window (ms)"},
      {"RATE_LIMIT_MAX", "1000", "requests per IP per window (plain HTTP routes only)"},
      {"HANDSHAKE_RATE", "100", "new Engine.IO sessions per second per address (refill)"},
      {"HANDSHAKE_BURST", "1000", "new Engine.IO sessions one address may open at once"},
      {"MAX_CONNECTIONS_PER_ADDRESS", "10000", "open TCP connections per client address"},
      {"HTTP_HEADER_TIMEOUT", "10000",
       "a request header must arrive within this (ms); also the keep-alive idle time"},
      {"LOG_LEVEL", "info", "trace, debug, info, warn, error, critical or off"},
      {"LOG_FORMAT", "text", "text or json (JSON lines)"},
      {"METRICS_INTERVAL", "30000", "period of the metrics log line (ms)"},
      {"SESSION_IDLE_TIMEOUT", "1800000", "empty sessions idle this long are removed (ms)"},
      {"SWEEP_INTERVAL", "300000", "period of the idle-session sweep (ms)"},
      {"CONNECT_TIMEOUT", "45000", "a connection must join a namespace within this (ms)"},
      {"PLAY_LEAD_MS", "0",
       "a play without `at` starts this much later, so every device has it first (ms, 0..5000)"},
      {"SERVE_CLIENT", "true", "serve the socket.io-client bundle under /socket.io/ (true/false)"},
      {"HEALTH_RATE_LIMIT_MAX", "600",
       "GET /health requests per IP per minute (not in RATE_LIMIT_*)"},
      {"METRICS_TOKEN", "", "bearer token GET /metrics requires; empty = public"},
      {"SESSION_CREATE_BURST", "20", "new sessions one connection may create at once"},
      {"SESSION_CREATE_PER_MINUTE", "10", "then new sessions per connection per minute"},
      {"SESSION_CREATE_ADDRESS_BURST", "1000", "new sessions one IP may create at once"},
      {"SESSION_CREATE_ADDRESS_PER_MINUTE", "600", "then new sessions per IP per minute"},
      {"SOCKET_RECOVERY_WINDOW", "120000",
       "a lost connection can be recovered within this (ms); 0 = recovery off"},
      {"LEADER_GRACE", "10000",
       "a dropped leader keeps the lead this long (ms; capped by the recovery window); 0 = at "
       "once"},
      {"CLUSTER", "false",
       "run as one node of several on the same Redis (true/false; needs REDIS_HOST)"},
      {"NODE_ID", "",
       "this node's id in the cluster (1-64 of [A-Za-z0-9_.-]; implies CLUSTER=true); "
       "unset = random"},
  };
  return vars;
}

std::map<std::string, std::string> read_env_file(const std::string& path) {
  std::map<std::string, std::string> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    auto trim = [](std::string s) {
      size_t b = s.find_first_not_of(" \t\r");
      size_t e = s.find_last_not_of(" \t\r");
      return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
    };
    line = trim(line);
    if (line.empty() || line[0] == '#') continue;
    if (line.rfind("export ", 0) == 0) line = trim(line.substr(7));
    auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string key = trim(line.substr(0, eq));
    std::string value = trim(line.substr(eq + 1));
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
        value.back() == value.front()) {
      value = value.substr(1, value.size() - 2);
    } else if (auto hash = value.find(" #"); hash != std::string::npos) {
      value = trim(value.substr(0, hash));
    }
    out[key] = value;
  }
  return out;
}

namespace {

template <typename T>
bool parse_int(const std::string& text, T lo, T hi, T& out) {
  T v{};
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || p != text.data() + text.size() || v < lo || v > hi) return false;
  out = v;
  return true;
}

}  // namespace

config_result make_config(const std::map<std::string, std::string>& values) {
  config_result r;
  auto& c = r.cfg;
  auto get = [&](const char* name) -> const std::string* {
    auto it = values.find(name);
    return it == values.end() ? nullptr : &it->second;
  };
  auto integer = [&](const char* name, auto lo, auto hi, auto& out, const char* what) {
    if (auto v = get(name)) {
      if (!parse_int(*v, lo, hi, out))
        r.errors.push_back(std::string(name) + "=\"" + *v + "\" is invalid: expected " + what);
    }
  };
  auto millis = [&](const char* name, int64_t lo, int64_t hi, std::chrono::milliseconds& out) {
    int64_t v = out.count();
    integer(
        name, lo, hi, v,
        ("a whole number of milliseconds from " + std::to_string(lo) + " to " + std::to_string(hi))
            .c_str());
    out = std::chrono::milliseconds(v);
  };

  integer("PORT", uint16_t{0}, uint16_t{65535}, c.port, "a port number from 0 to 65535");
  if (auto v = get("HOST"); v && !v->empty()) c.host = *v;
  if (auto v = get("CORS_ORIGIN")) {
    c.cors_origins.clear();
    size_t start = 0;
    while (start <= v->size()) {
      size_t comma = v->find(',', start);
      std::string item =
          v->substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      while (!item.empty() && item.front() == ' ') item.erase(item.begin());
      while (!item.empty() && item.back() == ' ') item.pop_back();
      if (!item.empty()) c.cors_origins.push_back(item);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    if (c.cors_origins.empty())
      r.errors.push_back("CORS_ORIGIN is empty: expected * or a comma-separated list of origins");
  }
  if (auto v = get("REDIS_HOST"); v && !v->empty()) c.redis_host = *v;
  integer("REDIS_PORT", uint16_t{1}, uint16_t{65535}, c.redis_port,
          "a port number from 1 to 65535");
  if (auto v = get("REDIS_PASSWORD")) c.redis_password = *v;
  integer("REDIS_DB", 0, 15, c.redis_db, "a database number from 0 to 15");
  millis("SOCKET_PING_INTERVAL", 100, 3600000, c.ping_interval);
  millis("SOCKET_PING_TIMEOUT", 100, 3600000, c.ping_timeout);
  integer("SOCKET_MAX_BUFFER_SIZE", size_t{1024}, size_t{100000000}, c.max_buffer_size,
          "a byte count from 1024 to 100000000");
  integer("RATE_LIMIT_WINDOW", int64_t{1000}, int64_t{86400000}, c.rate_limit_window_ms,
          "a whole number of milliseconds from 1000 to 86400000");
  integer("RATE_LIMIT_MAX", uint32_t{1}, uint32_t{100000000}, c.rate_limit_max,
          "a request count from 1 to 100000000");
  if (auto v = get("LOG_LEVEL")) {
    static const char* levels[] = {"trace", "debug", "info", "warn", "error", "critical", "off"};
    bool ok = false;
    for (auto l : levels) ok = ok || *v == l;
    if (ok)
      c.log_level = *v;
    else
      r.errors.push_back(
          "LOG_LEVEL=\"" + *v +
          "\" is invalid: expected trace, debug, info, warn, error, critical or off");
  }
  if (auto v = get("LOG_FORMAT")) {
    if (*v == "json")
      c.log_json = true;
    else if (*v != "text")
      r.errors.push_back("LOG_FORMAT=\"" + *v + "\" is invalid: expected text or json");
  }
  millis("METRICS_INTERVAL", 1000, 86400000, c.metrics_interval);
  millis("SESSION_IDLE_TIMEOUT", 1000, 604800000, c.session_idle);
  millis("SWEEP_INTERVAL", 100, 86400000, c.sweep_interval);
  millis("CONNECT_TIMEOUT", 100, 3600000, c.connect_timeout);
  millis("PLAY_LEAD_MS", 0, 5000, c.play_lead);
  uint32_t rate = static_cast<uint32_t>(c.handshake_rate);
  integer("HANDSHAKE_RATE", uint32_t{1}, uint32_t{1000000}, rate,
          "a count per second from 1 to 1000000");
  c.handshake_rate = rate;
  uint32_t burst = static_cast<uint32_t>(c.handshake_burst);
  integer("HANDSHAKE_BURST", uint32_t{1}, uint32_t{1000000}, burst, "a count from 1 to 1000000");
  c.handshake_burst = burst;
  integer("MAX_CONNECTIONS_PER_ADDRESS", size_t{1}, size_t{1000000}, c.max_connections_per_address,
          "a count from 1 to 1000000");
  millis("HTTP_HEADER_TIMEOUT", 100, 600000, c.header_timeout);
  if (auto v = get("SERVE_CLIENT")) {
    if (*v == "true" || *v == "1")
      c.serve_client = true;
    else if (*v == "false" || *v == "0")
      c.serve_client = false;
    else
      r.errors.push_back("SERVE_CLIENT=\"" + *v + "\" is invalid: expected true, false, 1 or 0");
  }
  integer("HEALTH_RATE_LIMIT_MAX", uint32_t{1}, uint32_t{100000000}, c.health_rate_limit_max,
          "a request count from 1 to 100000000");
  if (auto v = get("METRICS_TOKEN")) c.metrics_token = *v;
  integer("SESSION_CREATE_BURST", uint32_t{1}, uint32_t{1000000}, c.session_create_burst,
          "a session count from 1 to 1000000");
  integer("SESSION_CREATE_PER_MINUTE", uint32_t{1}, uint32_t{1000000}, c.session_create_per_minute,
          "a session count from 1 to 1000000");
  integer("SESSION_CREATE_ADDRESS_BURST", uint32_t{1}, uint32_t{1000000},
          c.session_create_address_burst, "a session count from 1 to 1000000");
  integer("SESSION_CREATE_ADDRESS_PER_MINUTE", uint32_t{1}, uint32_t{1000000},
          c.session_create_address_per_minute, "a session count from 1 to 1000000");
  millis("SOCKET_RECOVERY_WINDOW", 0, 3600000, c.recovery_window);
  millis("LEADER_GRACE", 0, 3600000, c.leader_grace);
  if (auto v = get("CLUSTER")) {
    if (*v == "true" || *v == "1")
      c.cluster = true;
    else if (*v != "false" && *v != "0")
      r.errors.push_back("CLUSTER=\"" + *v + "\" is invalid: expected true, false, 1 or 0");
  }
  if (auto v = get("NODE_ID"); v && !v->empty()) {
    bool ok = v->size() <= 64;
    for (char ch : *v) {
      ok = ok && ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' || ch == '.');
    }
    if (ok) {
      c.node_id = *v;
      c.cluster = true;
    } else {
      r.errors.push_back("NODE_ID=\"" + *v + "\" is invalid: expected 1-64 of [A-Za-z0-9_.-]");
    }
  }
  if (c.cluster && !c.redis_host) {
    r.errors.push_back("CLUSTER/NODE_ID need REDIS_HOST: the nodes meet on one Redis");
  }
  return r;
}

}  // namespace bandsync::app
