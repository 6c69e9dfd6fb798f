// bandsync built with BANDSYNC_PROTOCOL_ONLY: the conformance server alone.
#include <CLI/CLI.hpp>

#include "app/conformance.hpp"
#include "util/log.hpp"

int main(int argc, char** argv) {
  CLI::App cli{"BandSync: realtime sync server for bands (Socket.IO compatible)"};
  cli.require_subcommand(1);

  bandsync::app::conformance_options conf;
  auto* conformance = cli.add_subcommand(
      "conformance", "Run the reference server of the Socket.IO / Engine.IO protocol test suites");
  conformance->add_option("--port", conf.port, "Listening port")->capture_default_str();
  conformance->add_option("--host", conf.host, "Listening address")->capture_default_str();
  conformance->add_option("--ping-interval", conf.ping_interval_ms, "pingInterval (ms)")
      ->capture_default_str();
  conformance->add_option("--ping-timeout", conf.ping_timeout_ms, "pingTimeout (ms)")
      ->capture_default_str();
  conformance->add_flag("--engineio", conf.engineio_only,
                        "Engine.IO echo server on /engine.io/ instead of Socket.IO");

  CLI11_PARSE(cli, argc, argv);
  bandsync::util::configure_logging("info", false);
  if (conformance->parsed()) return bandsync::app::run_conformance(conf);
  return 0;
}
