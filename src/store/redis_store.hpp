#pragma once
// The session_store on Redis, in the layout of EVENTS.md ("Redis layout"), so
// that the old Node server and BandSync read each other's data.
//
// Writes are fire-and-forget (session_store's contract) and asynchronous: each
// goes into a write_buffer (newest operation per key wins), and once per
// event-loop turn the buffer is sent on one pipelined connection as MULTI/EXEC
// blocks that always hold every pending key of a session together. A domain
// event's writes (member SET/DEL + session SET, with their EX) are therefore
// applied by Redis as one atomic step, in the order the domain made them.
//
// While Redis is unreachable the buffer keeps accumulating (bounded; see
// redis_store_options::max_pending_keys) and the service runs from memory.
// On reconnection the buffer is written back, and the resync handler is asked
// to rewrite the whole live state: a Redis that restarted empty then holds
// exactly what clients see again.
//
// load_sessions() blocks (start-up only; see redis_loader.hpp). Everything
// else runs on the io_context's thread and never blocks.

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "store/redis_options.hpp"
#include "store/resp.hpp"
#include "store/session_store.hpp"
#include "store/write_buffer.hpp"

namespace boost::asio {
class io_context;
}

namespace bandsync::store {

class redis_connection;

class redis_store : public session_store {
 public:
  // Does not connect: call start() (writes made before are kept).
  redis_store(boost::asio::io_context& ioc, redis_store_options options);
  ~redis_store() override;
  redis_store(const redis_store&) = delete;
  redis_store& operator=(const redis_store&) = delete;

  // Also EXPIREs `setlist:<id>` in the same MULTI/EXEC when the session has
  // one, so the two keys expire together.
  void save_session(const session_record& record) override;
  void save_setlist(const std::string& session_id, const std::vector<song_record>& songs) override;
  void remove_session(const std::string& session_id) override;
  void save_member(const std::string& session_id, const member_record& member) override;
  void remove_member(const std::string& socket_id) override;
  // `interval:<id>` holds the Unix ms at which the ticker started.
  void set_ticking(const std::string& session_id, bool ticking) override;

  // Blocking read of every session (start-up only). The records are returned
  // as stored; a Redis that cannot be read (down, hung past load_timeout)
  // yields what was read (logged), and load_complete() stays false: once
  // start()ed, the store reads every session again in the background
  // (SCAN/MGET on its own connection, restarted on each reconnection) and
  // hands them to the load handler, once.
  std::vector<session_record> load_sessions() override;
  bool load_complete() const override { return loaded_; }
  void set_load_handler(std::function<void(std::vector<session_record>)> handler) {
    on_loaded_ = std::move(handler);
  }

  // Starts the connection (and its reconnection loop).
  void start();

  // Connected and serving commands (GET /health `redis`).
  bool connected() const;

  // Nothing buffered and nothing awaiting Redis's answer.
  bool idle() const { return pending_.empty() && inflight_.empty(); }

  // Called on every connection after the first: the handler should save the
  // whole live state again (session_service::persist_all).
  void set_resync_handler(std::function<void()> handler) { resync_ = std::move(handler); }

  // Cluster mode (src/cluster; docs/EVENTS.md "Cluster"): every session's
  // writes are fenced by its lease. `fence(session_id)` returns what the
  // lease this node holds on the session looks like in Redis, or
  // std::nullopt when it holds none (the writes are then dropped and counted
  // in ops_fenced). Each session's writes go out as one EVAL of
  // fenced_write_script, which applies all of them only while `lease:<id>`
  // holds `lease_value` and `node_key` holds `node_value` (the owner's node
  // lease); otherwise none is applied, they are counted in ops_fenced and
  // `on_fenced(session_id)` is called. Without fencing (a single node)
  // writes are as described above.
  struct fence {
    std::string lease_value;
    std::string node_key;
    std::string node_value;
  };
  using fence_fn = std::function<std::optional<fence>(const std::string& session_id)>;
  void set_fencing(fence_fn fence, std::function<void(const std::string&)> on_fenced) {
    fence_ = std::move(fence);
    on_fenced_ = std::move(on_fenced);
  }

  struct counters {
    uint64_t ops_fenced = 0;  // refused because the lease was not (or no longer) ours
    size_t pending_keys = 0;
    size_t inflight_batches = 0;
    uint64_t batches_written = 0;  // MULTI/EXEC blocks (or single commands) acknowledged
    uint64_t ops_written = 0;
    uint64_t ops_failed = 0;   // refused by Redis (an error reply); not retried
    uint64_t ops_dropped = 0;  // outage buffer full
    uint64_t resyncs = 0;
    uint64_t socket_writes = 0;  // of the connection: < batches when pipelined
    uint64_t connect_attempts = 0;
  };
  counters stats() const;

 private:
  struct batch {
    uint64_t seq;
    size_t ops;
    std::vector<write_buffer::group> groups;
  };
  // What the store remembers of a session to refresh its other keys' expiry.
  struct session_meta {
    std::vector<std::string> members;
    bool playing = false;
    bool has_setlist = false;  // `setlist:<id>` exists (written, or found by load_sessions)
    std::chrono::steady_clock::time_point refreshed;
  };

  // The session's bookkeeping entry, created if absent; nullptr when the
  // table is full (only the expiry refreshes of its other keys are lost).
  session_meta* meta_of(const std::string& session_id);
  void put(const std::string& group, const std::string& key, write_buffer::op_kind kind,
           std::string value = {});
  // Refreshes the expiry of the session's keys not written now, at most once
  // per refresh_interval. `except` is the key being written.
  void maybe_refresh(const std::string& session_id, const std::string& except);
  void schedule_flush();
  void flush();
  void on_batch_done(uint64_t seq, const boost::system::error_code& ec,
                     std::vector<redis_reply>&& replies);
  void on_connection_state(bool ready);
  // Puts every in-flight batch back into the buffer, newest first.
  void requeue_inflight();
  // Background load: one SCAN page from `cursor`, then MGET of its keys, then
  // MGET of the `setlist:<id>` keys of the sessions it read (as
  // load_sessions_blocking does), then the next page or the end.
  void load_page(const std::string& cursor);
  void load_values(std::vector<std::string> keys, std::string cursor);
  void load_setlists(size_t first, std::string cursor);
  void load_next(const std::string& cursor);
  void load_failed(const std::string& what);

  boost::asio::io_context& ioc_;
  redis_store_options options_;
  std::shared_ptr<redis_connection> conn_;
  write_buffer pending_;
  std::deque<batch> inflight_;
  std::unordered_map<std::string, session_meta> sessions_;       // bounded by max_pending_keys
  std::unordered_map<std::string, std::string> member_session_;  // socket id -> session id
  std::function<void()> resync_;
  fence_fn fence_;
  std::function<void(const std::string&)> on_fenced_;
  std::shared_ptr<int> life_ = std::make_shared<int>(0);  // posted handlers check it
  bool flush_posted_ = false;
  bool ever_connected_ = false;
  uint64_t next_seq_ = 0;
  uint64_t failed_logged_at_ = 0;
  counters counters_;
  bool loaded_ = true;         // until load_sessions() came back incomplete
  bool load_running_ = false;  // a background load is under way
  std::vector<session_record> load_records_;
  std::function<void(std::vector<session_record>)> on_loaded_;
};

}  // namespace bandsync::store
