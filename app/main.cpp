// bandsync: the BandSync server and its tools, as CLI subcommands.
#include <cstdlib>
#include <iostream>
#include <map>

#include <CLI/CLI.hpp>

#include "app/bench.hpp"
#include "app/config.hpp"
#include "app/conformance.hpp"
#include "app/fd_limit.hpp"
#include "app/serve.hpp"
#include "util/log.hpp"

namespace {

// "SOCKET_PING_INTERVAL" -> "--socket-ping-interval"
std::string flag_name(const char* var) {
  std::string f = "--";
  for (const char* p = var; *p; ++p) f += *p == '_' ? '-' : static_cast<char>(std::tolower(*p));
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{"BandSync: realtime sync server for bands (Socket.IO compatible)"};
  cli.require_subcommand(1);

  auto* serve = cli.add_subcommand(
      "serve",
      "Serve the BandSync events and HTTP routes. Every option can also be set as an "
      "environment variable or in the .env file (flags win over the environment, the "
      "environment over .env).");
  std::string env_file = ".env";
  serve->add_option("--env-file", env_file, "File of KEY=VALUE lines")->capture_default_str();
  std::map<std::string, std::string> flag_values;
  for (const auto& v : bandsync::app::variables()) {
    std::string help = std::string(v.help) + " [" + v.name +
                       ", default: " + (*v.default_value ? v.default_value : "unset") + "]";
    serve->add_option(flag_name(v.name), flag_values[v.name], help);
  }

  bandsync::app::conformance_options conf;
  auto* conformance = cli.add_subcommand(
      "conformance", "Run the reference server of the Socket.IO / Engine.IO protocol test suites");
  conformance->add_option("--port", conf.port, "Listening port")->capture_default_str();
  conformance->add_option("--host", conf.host, "Listening address")->capture_default_str();
  conformance->add_option("--ping-interval", conf.ping_interval_ms, "pingInterval (ms)")
      ->capture_default_str();
  conformance->add_option("--ping-timeout", conf.ping_timeout_ms, "pingTimeout (ms)")
      ->capture_default_str();
  conformance
      ->add_option("--connect-timeout", conf.connect_timeout_ms,
                   "connectTimeout (ms): close a connection with no namespace CONNECT by then")
      ->capture_default_str()
      ->check(CLI::Range(100u, 3600000u));
  conformance
      ->add_option("--recovery-window", conf.recovery_window_ms,
                   "Connection state recovery window (ms); 0 = off, as the protocol suite expects")
      ->capture_default_str();
  conformance->add_flag("--engineio", conf.engineio_only,
                        "Engine.IO echo server on /engine.io/ instead of Socket.IO");

  bandsync::app::bench_command bench(cli);

  CLI11_PARSE(cli, argc, argv);

  if (bench.parsed()) return bench.run();

  if (conformance->parsed()) {
    bandsync::util::configure_logging("info", false);
    bandsync::app::raise_fd_limit();
    return bandsync::app::run_conformance(conf);
  }

  // Precedence: defaults < .env < environment < flags.
  auto values = bandsync::app::read_env_file(env_file);
  for (const auto& v : bandsync::app::variables())
    if (const char* e = std::getenv(v.name)) values[v.name] = e;
  for (const auto& v : bandsync::app::variables())
    if (serve->count(flag_name(v.name))) values[v.name] = flag_values[v.name];
  auto result = bandsync::app::make_config(values);
  if (!result.errors.empty()) {
    for (const auto& e : result.errors) std::cerr << "bandsync: " << e << "\n";
    return 2;
  }
  bandsync::util::configure_logging(result.cfg.log_level, result.cfg.log_json);
  // Before any socket: the listener sizes its descriptor reserve from it.
  bandsync::app::raise_fd_limit();
  return bandsync::app::run_serve(result.cfg);
}
