#pragma once
// The process's open-file limit. Service managers commonly start daemons with
// a soft limit of 1024, which caps a server near 1,000 devices although the
// hard limit allows far more; Node raises the soft limit to the hard one at
// start, and so does BandSync.

#include <cstddef>

namespace bandsync::app {

// Raises RLIMIT_NOFILE's soft limit to its hard limit and logs the outcome
// once. Returns the soft limit in force afterwards (0: unlimited/unknown).
size_t raise_fd_limit();

}  // namespace bandsync::app
