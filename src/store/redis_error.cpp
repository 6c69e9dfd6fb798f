#include "store/redis_error.hpp"

#include <string>

namespace bandsync::store {
namespace {

class category : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "redis"; }

  std::string message(int ev) const override {
    switch (static_cast<redis_error>(ev)) {
      case redis_error::not_connected:
        return "not connected to Redis";
      case redis_error::queue_full:
        return "Redis request queue full";
      case redis_error::connection_lost:
        return "Redis connection lost before the reply";
      case redis_error::protocol_error:
        return "Redis protocol error";
      case redis_error::handshake_failed:
        return "Redis refused AUTH or SELECT";
      case redis_error::timeout:
        return "Redis did not answer in time";
      case redis_error::stopped:
        return "Redis client stopped";
    }
    return "unknown Redis error";
  }
};

}  // namespace

const boost::system::error_category& redis_category() {
  static const category instance;
  return instance;
}

boost::system::error_code make_error_code(redis_error e) {
  return {static_cast<int>(e), redis_category()};
}

}  // namespace bandsync::store
