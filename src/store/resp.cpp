#include "store/resp.hpp"

#include <new>

#include <hiredis/hiredis.h>

#include "store/redis_error.hpp"

namespace bandsync::store {
namespace {

redis_reply copy_reply(const redisReply& r) {
  redis_reply out;
  switch (r.type) {
    case REDIS_REPLY_STRING:
      out.type = redis_reply::kind::string;
      out.str.assign(r.str, r.len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = redis_reply::kind::status;
      out.str.assign(r.str, r.len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = redis_reply::kind::error;
      out.str.assign(r.str, r.len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = redis_reply::kind::integer;
      out.integer = r.integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = redis_reply::kind::array;
      out.elements.reserve(r.elements);
      for (size_t i = 0; i < r.elements; ++i) out.elements.push_back(copy_reply(*r.element[i]));
      break;
    default:
      out.type = redis_reply::kind::nil;
      break;
  }
  return out;
}

}  // namespace

std::string format_command(std::span<const std::string_view> args) {
  std::vector<const char*> argv;
  std::vector<size_t> argvlen;
  argv.reserve(args.size());
  argvlen.reserve(args.size());
  for (auto a : args) {
    argv.push_back(a.data());
    argvlen.push_back(a.size());
  }
  char* cmd = nullptr;
  int len =
      redisFormatCommandArgv(&cmd, static_cast<int>(args.size()), argv.data(), argvlen.data());
  // hiredis fails only when out of memory (or for an empty command, which the
  // contract excludes).
  if (len < 0 || !cmd) throw std::bad_alloc();
  std::string out(cmd, static_cast<size_t>(len));
  redisFreeCommand(cmd);
  return out;
}

std::string format_command(std::initializer_list<std::string_view> args) {
  return format_command(std::span<const std::string_view>(args.begin(), args.size()));
}

void resp_reader::deleter::operator()(redisReader* r) const {
  redisReaderFree(r);
}

resp_reader::resp_reader() : reader_(redisReaderCreate()) {
  if (!reader_) throw std::bad_alloc();
}

resp_reader::~resp_reader() = default;

bool resp_reader::feed(std::string_view bytes) {
  if (failed_) return false;
  if (redisReaderFeed(reader_.get(), bytes.data(), bytes.size()) != REDIS_OK) failed_ = true;
  return !failed_;
}

std::optional<redis_reply> resp_reader::next(boost::system::error_code& ec) {
  ec = {};
  if (failed_) {
    ec = redis_error::protocol_error;
    return std::nullopt;
  }
  void* raw = nullptr;
  if (redisReaderGetReply(reader_.get(), &raw) != REDIS_OK) {
    failed_ = true;
    ec = redis_error::protocol_error;
    return std::nullopt;
  }
  if (!raw) return std::nullopt;
  auto* reply = static_cast<redisReply*>(raw);
  redis_reply out = copy_reply(*reply);
  freeReplyObject(reply);
  return out;
}

std::string resp_reader::error_text() const {
  if (!failed_) return {};
  return reader_->err ? std::string(reader_->errstr) : std::string("reader failed");
}

}  // namespace bandsync::store
