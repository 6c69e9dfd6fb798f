#include "util/ids.hpp"

#include <sys/random.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <stdexcept>

namespace bandsync::util {
namespace {

struct entropy_pool {
  std::array<uint8_t, 4096> bytes{};
  size_t next = bytes.size();

  uint8_t take() {
    if (next == bytes.size()) {
      size_t filled = 0;
      while (filled < bytes.size()) {
        ssize_t n = getrandom(bytes.data() + filled, bytes.size() - filled, 0);
        if (n < 0) {
          if (errno == EINTR) continue;
          throw std::runtime_error("getrandom failed");  // no entropy: nothing safe to do
        }
        filled += static_cast<size_t>(n);
      }
      next = 0;
    }
    return bytes[next++];
  }
};

}  // namespace

std::string random_id(size_t length) {
  static constexpr char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  thread_local entropy_pool pool;
  std::string id(length, '\0');
  for (auto& c : id) c = alphabet[pool.take() & 63];
  return id;
}

}  // namespace bandsync::util
