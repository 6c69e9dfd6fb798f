#include "store/redis_loader.hpp"

#include <chrono>
#include <memory>
#include <string_view>

#include <hiredis/hiredis.h>
#include <boost/json/parse.hpp>

namespace bandsync::store {
namespace {

constexpr std::string_view session_prefix = "session:";
constexpr std::string_view setlist_prefix = "setlist:";
constexpr const char* scan_page = "1000";

struct context_deleter {
  void operator()(redisContext* c) const { redisFree(c); }
};
struct reply_deleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using context_ptr = std::unique_ptr<redisContext, context_deleter>;
using reply_ptr = std::unique_ptr<redisReply, reply_deleter>;

timeval to_timeval(std::chrono::milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

// Runs one command; returns the reply, or nullptr with `error` set (a
// connection failure or an error reply).
reply_ptr command(redisContext* c, const std::vector<std::string>& args, std::string& error) {
  std::vector<const char*> argv;
  std::vector<size_t> argvlen;
  for (const auto& a : args) {
    argv.push_back(a.data());
    argvlen.push_back(a.size());
  }
  reply_ptr r(static_cast<redisReply*>(
      redisCommandArgv(c, static_cast<int>(args.size()), argv.data(), argvlen.data())));
  if (!r) {
    error = args[0] + ": " + (c->err ? std::string(c->errstr) : std::string("no reply"));
    return nullptr;
  }
  if (r->type == REDIS_REPLY_ERROR) {
    error = args[0] + ": " + std::string(r->str, r->len);
    return nullptr;
  }
  return r;
}

// Fills the setlists of sessions[first..] from their `setlist:<id>` keys, in
// one MGET. An absent key is an empty setlist; an unreadable one too, counted.
bool load_setlists(redisContext* c, load_result& out, size_t first) {
  if (first >= out.sessions.size()) return true;
  std::vector<std::string> mget{"MGET"};
  for (size_t i = first; i < out.sessions.size(); ++i) {
    mget.push_back(std::string(setlist_prefix) + out.sessions[i].id);
  }
  auto values = command(c, mget, out.error);
  if (!values) return false;
  if (values->type != REDIS_REPLY_ARRAY || values->elements != mget.size() - 1) {
    out.error = "MGET: unexpected reply";
    return false;
  }
  for (size_t i = 0; i < values->elements; ++i) {
    const redisReply* v = values->element[i];
    if (v->type != REDIS_REPLY_STRING) continue;
    boost::system::error_code ec;
    auto json = boost::json::parse(std::string_view(v->str, v->len), ec);
    std::optional<std::vector<song_record>> songs;
    if (!ec) songs = setlist_from_json(json);
    if (songs) {
      out.sessions[first + i].setlist = std::move(*songs);
    } else {
      ++out.unreadable_setlists;
    }
  }
  return true;
}

}  // namespace

load_result load_sessions_blocking(const redis_store_options& options) {
  load_result out;
  const auto& ep = options.connection.endpoint;
  auto deadline = std::chrono::steady_clock::now() + options.load_timeout;
  context_ptr c(redisConnectWithTimeout(ep.host.c_str(), ep.port,
                                        to_timeval(options.connection.connect_timeout)));
  if (!c || c->err) {
    out.error = "connect: " + (c ? std::string(c->errstr) : std::string("out of memory"));
    return out;
  }
  redisSetTimeout(c.get(), to_timeval(options.load_timeout));
  if (!ep.password.empty() && !command(c.get(), {"AUTH", ep.password}, out.error)) return out;
  if (ep.db != 0 && !command(c.get(), {"SELECT", std::to_string(ep.db)}, out.error)) return out;

  std::string cursor = "0";
  do {
    if (std::chrono::steady_clock::now() > deadline) {
      out.error = "load took longer than " + std::to_string(options.load_timeout.count()) + " ms";
      return out;
    }
    auto page =
        command(c.get(), {"SCAN", cursor, "MATCH", "session:*", "COUNT", scan_page}, out.error);
    if (!page) return out;
    if (page->type != REDIS_REPLY_ARRAY || page->elements != 2 ||
        page->element[0]->type != REDIS_REPLY_STRING ||
        page->element[1]->type != REDIS_REPLY_ARRAY) {
      out.error = "SCAN: unexpected reply";
      return out;
    }
    cursor.assign(page->element[0]->str, page->element[0]->len);
    const redisReply* keys = page->element[1];
    if (keys->elements == 0) continue;
    std::vector<std::string> mget{"MGET"};
    for (size_t i = 0; i < keys->elements; ++i) {
      mget.emplace_back(keys->element[i]->str, keys->element[i]->len);
    }
    auto values = command(c.get(), mget, out.error);
    if (!values) return out;
    if (values->type != REDIS_REPLY_ARRAY || values->elements != keys->elements) {
      out.error = "MGET: unexpected reply";
      return out;
    }
    const size_t page_first = out.sessions.size();
    for (size_t i = 0; i < values->elements; ++i) {
      const redisReply* v = values->element[i];
      if (v->type != REDIS_REPLY_STRING) continue;  // expired meanwhile, or not a string
      if (out.sessions.size() >= options.max_load_sessions) break;
      std::string id = mget[i + 1].substr(session_prefix.size());
      boost::system::error_code ec;
      auto json = boost::json::parse(std::string_view(v->str, v->len), ec);
      std::optional<session_record> record;
      if (!ec) record = session_from_json(std::move(id), json);
      if (record) {
        out.sessions.push_back(std::move(*record));
      } else {
        ++out.unreadable;
      }
    }
    if (!load_setlists(c.get(), out, page_first)) return out;
    if (out.sessions.size() >= options.max_load_sessions) return out;
  } while (cursor != "0");
  return out;
}

}  // namespace bandsync::store
