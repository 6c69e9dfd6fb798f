#pragma once
// RESP, the Redis wire protocol, without I/O: commands are formatted by
// hiredis (redisFormatCommandArgv) and replies parsed by its redisReader, so
// nothing here hand-writes the protocol. The Asio connection and the blocking
// start-up loader both build on these.

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/system/error_code.hpp>

struct redisReader;

namespace bandsync::store {

// One reply, copied out of hiredis's tree so that callers never see a hiredis
// type (or have to free one).
struct redis_reply {
  enum class kind { string, array, integer, nil, status, error };
  kind type = kind::nil;
  std::string str;  // string, status and error replies
  int64_t integer = 0;
  std::vector<redis_reply> elements;  // array replies

  bool is_error() const { return type == kind::error; }
  // A status reply equal to `s` ("OK", "QUEUED", "PONG").
  bool is_status(std::string_view s) const { return type == kind::status && str == s; }
};

// The RESP encoding of one command (an array of bulk strings); `args` must not
// be empty. Throws std::bad_alloc only.
std::string format_command(std::span<const std::string_view> args);
std::string format_command(std::initializer_list<std::string_view> args);

// An incremental reply parser: feed() the bytes as they arrive, then call
// next() until it returns std::nullopt. A protocol error is sticky: next()
// sets `ec` to redis_error::protocol_error and the reader must be discarded
// (the byte stream can no longer be trusted).
class resp_reader {
 public:
  resp_reader();
  ~resp_reader();
  resp_reader(const resp_reader&) = delete;
  resp_reader& operator=(const resp_reader&) = delete;

  // Returns false (and sets the sticky error) if hiredis refused the bytes.
  bool feed(std::string_view bytes);

  // The next complete reply, or std::nullopt when more bytes are needed or on
  // error (then `ec` is set).
  std::optional<redis_reply> next(boost::system::error_code& ec);

  // hiredis's description of the protocol error, empty when there is none.
  std::string error_text() const;

 private:
  struct deleter {
    void operator()(redisReader* r) const;
  };
  std::unique_ptr<redisReader, deleter> reader_;
  bool failed_ = false;
};

}  // namespace bandsync::store
