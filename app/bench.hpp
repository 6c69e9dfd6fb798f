#pragma once
// `bandsync bench rehearsal|fanout|floor|sync|idle`: the command line of the load and
// sync benchmark (src/bench). Loopback targets only.

#include "bench/options.hpp"
#include "bench/sync.hpp"

namespace CLI {
class App;
}

namespace bandsync::app {

class bench_command {
 public:
  // Adds the `bench` subcommand and its scenarios to `cli`.
  explicit bench_command(CLI::App& cli);
  bench_command(const bench_command&) = delete;
  bench_command& operator=(const bench_command&) = delete;

  bool parsed() const;
  // The scenario's exit code.
  int run() const;

 private:
  CLI::App* bench_ = nullptr;
  CLI::App* rehearsal_ = nullptr;
  CLI::App* fanout_ = nullptr;
  CLI::App* floor_ = nullptr;
  CLI::App* sync_ = nullptr;
  CLI::App* idle_ = nullptr;
  bench::common_options common_;
  bench::rehearsal_options rehearsal_opts_;
  bench::fanout_options fanout_opts_;
  bench::floor_options floor_opts_;
  bench::sync_options sync_opts_;
  bench::idle_options idle_opts_;
};

}  // namespace bandsync::app
