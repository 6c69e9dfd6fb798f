#include "store/redis_store.hpp"

// Why one file of ~540 lines: one class whose three parts (the write buffer's
// writes, the flushing and its replies, the background start-up load) share
// the connection and the pending state; its pure parts are apart and unit
// tested (write_buffer, resp, session_record, setlist_record, redis_error),
// and the sections are marked below.

#include <algorithm>
#include <chrono>
#include <utility>

#include <spdlog/spdlog.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/json/parse.hpp>

#include "store/redis_connection.hpp"
#include "store/redis_error.hpp"
#include "store/redis_loader.hpp"
#include "store/setlist_record.hpp"
#include "util/json_text.hpp"

namespace bandsync::store {

namespace net = boost::asio;
using op_kind = write_buffer::op_kind;

namespace {

std::string session_key(const std::string& id) {
  return "session:" + id;
}
std::string member_key(const std::string& socket_id) {
  return "member:" + socket_id;
}
std::string interval_key(const std::string& id) {
  return "interval:" + id;
}
std::string setlist_key(const std::string& id) {
  return "setlist:" + id;
}

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The first error among the replies of a batch: an error reply to a queued
// command, EXECABORT, a nil EXEC (a transaction aborted), or an error inside
// the EXEC array. Empty when everything succeeded.
std::string first_error(const std::vector<redis_reply>& replies) {
  for (const auto& r : replies) {
    if (r.is_error()) return r.str;
  }
  if (replies.size() > 1) {
    const auto& exec = replies.back();
    if (exec.type == redis_reply::kind::nil) return "transaction aborted";
    for (const auto& r : exec.elements) {
      if (r.is_error()) return r.str;
    }
  }
  return {};
}

// KEYS[1] the lease, KEYS[2] the owner's node lease, KEYS[3..] the written
// keys; ARGV[1] the lease value, ARGV[2] the node lease's value, ARGV[3] the
// TTL in seconds, ARGV[i+1] the operation on KEYS[i]: "s" + value (SET EX),
// "d" (DEL) or "e" (EXPIRE). All or nothing: a script runs alone.
constexpr std::string_view fenced_write_script = R"lua(
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if redis.call('GET', KEYS[2]) ~= ARGV[2] then return 0 end
for i = 3, #KEYS do
  local op = ARGV[i + 1]
  local k = string.sub(op, 1, 1)
  if k == 's' then redis.call('SET', KEYS[i], string.sub(op, 2), 'EX', ARGV[3])
  elseif k == 'd' then redis.call('DEL', KEYS[i])
  else redis.call('EXPIRE', KEYS[i], ARGV[3]) end
end
return 1
)lua";

}  // namespace

redis_store::redis_store(net::io_context& ioc, redis_store_options options)
    : ioc_(ioc),
      options_(std::move(options)),
      conn_(redis_connection::create(ioc.get_executor(), options_.connection)),
      pending_(options_.max_pending_keys) {
  conn_->set_state_handler([this](bool ready) { on_connection_state(ready); });
}

redis_store::~redis_store() {
  size_t unsent = pending_.keys();
  for (const auto& b : inflight_) unsent += b.ops;
  if (unsent > 0) {
    spdlog::warn("redis: {} writes not confirmed by Redis at shutdown (kept until TTL expiry)",
                 unsent);
  }
  conn_->stop();
}

void redis_store::start() {
  conn_->start();
}

bool redis_store::connected() const {
  return conn_->ready();
}

std::vector<session_record> redis_store::load_sessions() {
  auto started = std::chrono::steady_clock::now();
  auto result = load_sessions_blocking(options_);
  double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  if (!result.error.empty()) {
    loaded_ = false;
    spdlog::warn(
        "redis: start-up load from {}:{} incomplete ({}); {} sessions read; the rest is read in "
        "the background once Redis answers",
        options_.connection.endpoint.host, options_.connection.endpoint.port, result.error,
        result.sessions.size());
  } else {
    spdlog::info(
        "redis: loaded {} sessions in {:.1f} ms ({} unreadable values skipped, {} unreadable "
        "setlists loaded as empty)",
        result.sessions.size(), ms, result.unreadable, result.unreadable_setlists);
  }
  // The loaded setlists' keys must keep being refreshed with their sessions.
  for (const auto& r : result.sessions) {
    if (r.setlist.empty()) continue;
    if (auto* meta = meta_of(r.id)) meta->has_setlist = true;
  }
  return std::move(result.sessions);
}

// ------------------------------------------------------------------ writes

void redis_store::save_session(const session_record& record) {
  const std::string key = session_key(record.id);
  put(record.id, key, op_kind::set, util::to_json_text(to_json(record)));
  auto* meta = meta_of(record.id);
  if (!meta) return;
  meta->members.clear();
  for (const auto& m : record.members) meta->members.push_back(m.socket_id);
  meta->playing = record.is_playing;
  // Every session write, not once a minute as the other keys: the session key
  // just got a fresh TTL, and a setlist that expired before its session would
  // come back from a restart as a session without its songs. One EXPIRE per
  // write (1/s while playing) is cheap next to rewriting the songs.
  if (meta->has_setlist) put(record.id, setlist_key(record.id), op_kind::expire);
  maybe_refresh(record.id, key);
}

void redis_store::save_setlist(const std::string& session_id,
                               const std::vector<song_record>& songs) {
  if (songs.empty()) {
    put(session_id, setlist_key(session_id), op_kind::del);
  } else {
    put(session_id, setlist_key(session_id), op_kind::set,
        util::to_json_text(setlist_to_json(songs)));
  }
  if (auto* meta = meta_of(session_id)) meta->has_setlist = !songs.empty();
}

redis_store::session_meta* redis_store::meta_of(const std::string& session_id) {
  auto it = sessions_.find(session_id);
  if (it == sessions_.end()) {
    if (sessions_.size() >= options_.max_pending_keys) return nullptr;
    it = sessions_.emplace(session_id, session_meta{}).first;
    it->second.refreshed = std::chrono::steady_clock::now();
  }
  return &it->second;
}

void redis_store::remove_session(const std::string& session_id) {
  put(session_id, session_key(session_id), op_kind::del);
  put(session_id, interval_key(session_id), op_kind::del);
  put(session_id, setlist_key(session_id), op_kind::del);
  sessions_.erase(session_id);
}

void redis_store::save_member(const std::string& session_id, const member_record& member) {
  const std::string key = member_key(member.socket_id);
  put(session_id, key, op_kind::set, util::to_json_text(member_entry_to_json(session_id, member)));
  auto it = member_session_.find(member.socket_id);
  if (it != member_session_.end()) {
    it->second = session_id;
  } else if (member_session_.size() < options_.max_pending_keys) {
    member_session_.emplace(member.socket_id, session_id);
  }
  maybe_refresh(session_id, key);
}

void redis_store::remove_member(const std::string& socket_id) {
  std::string group;  // a member this process never wrote (a restored one) has no session group
  if (auto it = member_session_.find(socket_id); it != member_session_.end()) {
    group = std::move(it->second);
    member_session_.erase(it);
  }
  put(group, member_key(socket_id), op_kind::del);
}

void redis_store::set_ticking(const std::string& session_id, bool ticking) {
  if (ticking) {
    put(session_id, interval_key(session_id), op_kind::set, std::to_string(wall_ms()));
  } else {
    put(session_id, interval_key(session_id), op_kind::del);
  }
  if (auto it = sessions_.find(session_id); it != sessions_.end()) it->second.playing = ticking;
}

void redis_store::put(const std::string& group, const std::string& key, op_kind kind,
                      std::string value) {
  if (!pending_.put(group, key, kind, std::move(value))) {
    ++counters_.ops_dropped;
    // Once per outage-sized burst, not per write: 1, 2, 4, 8 ... drops.
    uint64_t n = counters_.ops_dropped;
    if ((n & (n - 1)) == 0) {
      spdlog::warn("redis: write buffer full ({} keys pending); {} writes dropped so far",
                   pending_.keys(), n);
    }
    return;
  }
  schedule_flush();
}

void redis_store::maybe_refresh(const std::string& session_id, const std::string& except) {
  auto it = sessions_.find(session_id);
  if (it == sessions_.end()) return;
  auto now = std::chrono::steady_clock::now();
  auto& meta = it->second;
  if (now - meta.refreshed < options_.refresh_interval) return;
  meta.refreshed = now;
  // An expire never overrides a pending SET (which carries its own EX) or DEL.
  auto refresh = [&](const std::string& key) {
    if (key != except) put(session_id, key, op_kind::expire);
  };
  refresh(session_key(session_id));
  if (meta.playing) refresh(interval_key(session_id));
  for (const auto& m : meta.members) refresh(member_key(m));
}

// ------------------------------------------------------------------ flushing

void redis_store::schedule_flush() {
  if (flush_posted_) return;
  flush_posted_ = true;
  // After the current handler: every write of the event being handled lands
  // in the same MULTI/EXEC.
  net::post(ioc_, [this, life = std::weak_ptr<int>(life_)] {
    if (life.expired()) return;
    flush_posted_ = false;
    flush();
  });
}

void redis_store::flush() {
  if (!conn_->ready()) return;  // kept; written back on reconnection
  const std::string ttl = std::to_string(options_.ttl_seconds);
  while (!pending_.empty() && inflight_.size() < options_.max_inflight_batches) {
    auto groups = pending_.take(options_.max_batch_ops);
    std::string commands;
    size_t count = 0;
    size_t ops = 0;
    if (fence_) {
      // One fenced EVAL per session; a session whose lease is not ours is
      // dropped here (its new owner writes it).
      std::vector<write_buffer::group> sent;
      for (auto& g : groups) {
        auto token = fence_(g.name);
        if (!token) {
          counters_.ops_fenced += g.ops.size();
          continue;
        }
        std::vector<std::string> args{"EVAL", std::string(fenced_write_script),
                                      std::to_string(g.ops.size() + 2), "lease:" + g.name,
                                      token->node_key};
        for (const auto& o : g.ops) args.push_back(o.key);
        args.push_back(std::move(token->lease_value));
        args.push_back(std::move(token->node_value));
        args.push_back(ttl);
        for (const auto& o : g.ops) {
          args.push_back(o.kind == op_kind::set   ? "s" + o.value
                         : o.kind == op_kind::del ? std::string("d")
                                                  : std::string("e"));
        }
        std::vector<std::string_view> views(args.begin(), args.end());
        commands += format_command(views);
        ++count;
        ops += g.ops.size();
        sent.push_back(std::move(g));
      }
      if (sent.empty()) continue;
      groups = std::move(sent);
    } else {
      for (const auto& g : groups) ops += g.ops.size();
      auto add = [&](std::initializer_list<std::string_view> args) {
        commands += format_command(args);
        ++count;
      };
      // A single command is atomic by itself; MULTI/EXEC only when it matters.
      bool transaction = ops > 1;
      if (transaction) add({"MULTI"});
      for (const auto& g : groups) {
        for (const auto& o : g.ops) {
          switch (o.kind) {
            case op_kind::set:
              add({"SET", o.key, o.value, "EX", ttl});
              break;
            case op_kind::del:
              add({"DEL", o.key});
              break;
            case op_kind::expire:
              add({"EXPIRE", o.key, ttl});
              break;
          }
        }
      }
      if (transaction) add({"EXEC"});
    }
    uint64_t seq = ++next_seq_;
    auto ec = conn_->send(std::move(commands), count,
                          [this, seq, life = std::weak_ptr<int>(life_)](
                              const boost::system::error_code& ec, std::vector<redis_reply>&& r) {
                            if (life.expired()) return;
                            on_batch_done(seq, ec, std::move(r));
                          });
    if (ec) {
      // Not connected any more, or the connection's queue is full: keep the
      // writes; a reply or the reconnection flushes again.
      std::vector<write_buffer::group> back = std::move(groups);
      pending_.restore(std::move(back));
      return;
    }
    inflight_.push_back(batch{seq, ops, std::move(groups)});
  }
}

void redis_store::on_batch_done(uint64_t seq, const boost::system::error_code& ec,
                                std::vector<redis_reply>&& replies) {
  auto it = std::find_if(inflight_.begin(), inflight_.end(),
                         [seq](const batch& b) { return b.seq == seq; });
  if (it == inflight_.end()) return;  // already requeued when the connection dropped
  if (ec) {
    requeue_inflight();
    return;
  }
  if (fence_) {
    // One reply per session: 1 applied, 0 refused (the lease moved on).
    for (size_t i = 0; i < replies.size() && i < it->groups.size(); ++i) {
      if (replies[i].type == redis_reply::kind::integer && replies[i].integer == 0) {
        counters_.ops_fenced += it->groups[i].ops.size();
        if (on_fenced_) on_fenced_(it->groups[i].name);
      }
    }
  }
  std::string error = fence_ ? std::string() : first_error(replies);
  if (fence_) {
    for (const auto& r : replies) {
      if (r.is_error()) error = r.str;
    }
  }
  if (error.empty()) {
    ++counters_.batches_written;
    counters_.ops_written += it->ops;
  } else {
    // Redis refused (out of memory, a key of another type...): retrying would
    // fail the same way, so the writes are dropped and counted, and the log
    // line is rate-limited to powers of two.
    counters_.ops_failed += it->ops;
    uint64_t n = counters_.ops_failed;
    if (n >= failed_logged_at_ * 2 || failed_logged_at_ == 0) {
      failed_logged_at_ = n;
      spdlog::error("redis: a write batch was refused ({}); {} writes failed so far", error, n);
    }
  }
  inflight_.erase(it);
  if (!pending_.empty()) flush();
}

void redis_store::requeue_inflight() {
  while (!inflight_.empty()) {
    std::vector<write_buffer::group> groups = std::move(inflight_.back().groups);
    inflight_.pop_back();
    pending_.restore(std::move(groups));
  }
}

void redis_store::on_connection_state(bool ready) {
  if (!ready) {
    requeue_inflight();
    return;
  }
  if (ever_connected_ && resync_) {
    // Redis may have lost everything (restarted without persistence) or let
    // keys expire during a long outage: rewrite the live state.
    ++counters_.resyncs;
    size_t before = pending_.keys();
    resync_();
    spdlog::info("redis: resync after reconnection: {} keys pending ({} from the outage)",
                 pending_.keys(), before);
  }
  ever_connected_ = true;
  flush();
  // Only with a load handler: in cluster mode (src/cluster) sessions are read
  // one at a time when their lease is taken, and nobody sets one.
  if (!loaded_ && !load_running_ && on_loaded_) {
    load_running_ = true;
    load_records_.clear();
    spdlog::info("redis: background load of the stored sessions started");
    load_page("0");
  }
}

// ----------------------------------------------------------- background load

void redis_store::load_failed(const std::string& what) {
  // Retried from scratch on the next reconnection (a hung Redis is detected
  // by the connection's PING and dropped).
  load_running_ = false;
  load_records_.clear();
  spdlog::warn("redis: background load interrupted ({}); retried on reconnection", what);
}

void redis_store::load_page(const std::string& cursor) {
  auto ec =
      conn_->send(format_command({"SCAN", cursor, "MATCH", "session:*", "COUNT", "1000"}), 1,
                  [this](const boost::system::error_code& ec, std::vector<redis_reply>&& replies) {
                    if (ec || replies.empty())
                      return load_failed(ec ? ec.message() : "SCAN: no reply");
                    const auto& page = replies[0];
                    if (page.type != redis_reply::kind::array || page.elements.size() != 2 ||
                        page.elements[0].type != redis_reply::kind::string ||
                        page.elements[1].type != redis_reply::kind::array)
                      return load_failed("SCAN: unexpected reply");
                    std::vector<std::string> keys;
                    for (const auto& k : page.elements[1].elements) keys.push_back(k.str);
                    load_values(std::move(keys), page.elements[0].str);
                  });
  if (ec) load_failed(ec.message());
}

void redis_store::load_next(const std::string& cursor) {
  if (cursor != "0") return load_page(cursor);
  loaded_ = true;
  load_running_ = false;
  spdlog::info("redis: background load complete: {} sessions", load_records_.size());
  auto records = std::move(load_records_);
  load_records_.clear();
  // The loaded setlists' keys must keep being refreshed with their sessions.
  for (const auto& r : records) {
    if (r.setlist.empty()) continue;
    if (auto* meta = meta_of(r.id)) meta->has_setlist = true;
  }
  if (on_loaded_) on_loaded_(std::move(records));
}

void redis_store::load_setlists(size_t first, std::string cursor) {
  if (first >= load_records_.size()) return load_next(cursor);
  std::vector<std::string> keys;
  for (size_t i = first; i < load_records_.size(); ++i) {
    keys.push_back(setlist_key(load_records_[i].id));
  }
  std::vector<std::string_view> args{"MGET"};
  for (const auto& k : keys) args.push_back(k);
  size_t count = keys.size();
  auto ec =
      conn_->send(format_command(args), 1,
                  [this, first, count, cursor = std::move(cursor)](
                      const boost::system::error_code& ec, std::vector<redis_reply>&& replies) {
                    if (ec || replies.empty())
                      return load_failed(ec ? ec.message() : "MGET: no reply");
                    const auto& values = replies[0];
                    if (values.type != redis_reply::kind::array ||
                        values.elements.size() != count || load_records_.size() != first + count)
                      return load_failed("MGET: unexpected reply");
                    size_t unreadable = 0;
                    for (size_t i = 0; i < count; ++i) {
                      const auto& v = values.elements[i];
                      if (v.type != redis_reply::kind::string)
                        continue;  // no setlist: an empty one
                      boost::system::error_code jec;
                      auto json = boost::json::parse(v.str, jec);
                      std::optional<std::vector<song_record>> songs;
                      if (!jec) songs = setlist_from_json(json);
                      if (songs) {
                        load_records_[first + i].setlist = std::move(*songs);
                      } else {
                        ++unreadable;
                      }
                    }
                    if (unreadable > 0) {
                      spdlog::warn("redis: {} unreadable setlists loaded as empty", unreadable);
                    }
                    load_next(cursor);
                  });
  if (ec) load_failed(ec.message());
}

void redis_store::load_values(std::vector<std::string> keys, std::string cursor) {
  if (keys.empty()) return load_next(cursor);
  std::vector<std::string_view> args{"MGET"};
  for (const auto& k : keys) args.push_back(k);
  auto ec = conn_->send(
      format_command(args), 1,
      [this, keys = std::move(keys), cursor = std::move(cursor)](
          const boost::system::error_code& ec, std::vector<redis_reply>&& replies) mutable {
        if (ec || replies.empty()) return load_failed(ec ? ec.message() : "MGET: no reply");
        const auto& values = replies[0];
        if (values.type != redis_reply::kind::array || values.elements.size() != keys.size())
          return load_failed("MGET: unexpected reply");
        size_t unreadable = 0;
        size_t first = load_records_.size();
        for (size_t i = 0; i < keys.size(); ++i) {
          const auto& v = values.elements[i];
          if (v.type != redis_reply::kind::string) continue;  // expired meanwhile
          if (load_records_.size() >= options_.max_load_sessions) break;
          boost::system::error_code jec;
          auto json = boost::json::parse(v.str, jec);
          std::optional<session_record> record;
          if (!jec) record = session_from_json(keys[i].substr(session_key("").size()), json);
          if (record) {
            load_records_.push_back(std::move(*record));
          } else {
            ++unreadable;
          }
        }
        if (unreadable > 0) spdlog::warn("redis: {} unreadable session values skipped", unreadable);
        load_setlists(first, std::move(cursor));
      });
  if (ec) load_failed(ec.message());
}

redis_store::counters redis_store::stats() const {
  counters c = counters_;
  c.pending_keys = pending_.keys();
  c.inflight_batches = inflight_.size();
  c.socket_writes = conn_->stats().writes;
  c.connect_attempts = conn_->stats().connect_attempts;
  return c;
}

}  // namespace bandsync::store
