#include "app/fd_limit.hpp"

#include <sys/resource.h>

#include <cerrno>
#include <cstring>

#include <spdlog/spdlog.h>

namespace bandsync::app {

size_t raise_fd_limit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
    spdlog::warn("descriptors: cannot read RLIMIT_NOFILE: {}", std::strerror(errno));
    return 0;
  }
  if (rl.rlim_cur == RLIM_INFINITY) return 0;
  if (rl.rlim_cur >= rl.rlim_max) {
    spdlog::info("descriptors: open-file limit {}", static_cast<unsigned long long>(rl.rlim_cur));
    return static_cast<size_t>(rl.rlim_cur);
  }
  auto before = rl.rlim_cur;
  rl.rlim_cur = rl.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
    spdlog::warn("descriptors: cannot raise the open-file limit from {} to {}: {}",
                 static_cast<unsigned long long>(before),
                 static_cast<unsigned long long>(rl.rlim_max), std::strerror(errno));
    return static_cast<size_t>(before);
  }
  spdlog::info("descriptors: open-file limit raised from {} to {} (the hard limit)",
               static_cast<unsigned long long>(before),
               static_cast<unsigned long long>(rl.rlim_max));
  return static_cast<size_t>(rl.rlim_max);
}

}  // namespace bandsync::app
