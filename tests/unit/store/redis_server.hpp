#pragma once
// A real redis-server for the store tests (STYLE.md: real Redis, never a
// mock): /usr/bin/redis-server started by the test itself on a free loopback
// port with no persistence and a temporary directory, and a small blocking
// hiredis client to look at what the store wrote. Only the PID this object
// started is ever signalled.

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace bandsync::testing {

class redis_server {
 public:
  static constexpr const char* binary = "/usr/bin/redis-server";
  // Whether the binary is installed (the Makefile installs it for CI).
  static bool available();
  static std::string skip_reason();

  // Picks a free port and a temporary directory; start() runs the server.
  explicit redis_server(std::vector<std::string> extra_args = {});
  ~redis_server();
  redis_server(const redis_server&) = delete;
  redis_server& operator=(const redis_server&) = delete;

  // Spawns the server and waits (up to 5 s) until it answers PING. Returns
  // false with a reason in `*error` otherwise. Starting again after kill() or
  // stop() reuses the same port (an empty server: nothing is saved).
  bool start(std::string* error = nullptr);
  void kill();    // SIGKILL and reap: an abrupt outage
  void stop();    // SIGTERM and reap
  void pause();   // SIGSTOP: the server hangs with its connections open
  void resume();  // SIGCONT
  bool running() const { return pid_ > 0; }
  uint16_t port() const { return port_; }

  // One blocking command on a fresh connection (AUTH first when a password
  // is given). Returns the reply as text: strings, status and errors as
  // themselves ("ERR ..." for errors), integers in decimal, nil as
  // std::nullopt, arrays as their elements joined by '\n'.
  std::optional<std::string> command(const std::vector<std::string>& args,
                                     const std::string& password = {}, int db = 0) const;
  std::optional<std::string> get(const std::string& key, int db = 0) const {
    return command({"GET", key}, {}, db);
  }
  long long ttl(const std::string& key) const;
  // A field of INFO (e.g. "total_commands_processed"), or -1.
  long long info_field(const std::string& section, const std::string& field) const;

 private:
  std::vector<std::string> extra_args_;
  std::string dir_;
  uint16_t port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace bandsync::testing
