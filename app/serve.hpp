#pragma once
// `bandsync serve`: the BandSync service on the shared HTTP/Socket.IO listener.

#include "app/config.hpp"

namespace bandsync::app {

int run_serve(const config& cfg);

}  // namespace bandsync::app
