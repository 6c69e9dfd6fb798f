#include "cluster/node.hpp"

// Why one file of ~1,200 lines: these are the member functions of one class,
// `node`, which all read and change the same lease, routing and subscription
// state. What can stand alone already does, with its own unit tests: the lease
// arithmetic (lease.cpp), the subscription rule (room_channels.cpp) and the
// wire messages (wire.cpp); the Lua scripts are a header of their own
// (scripts.hpp, run against a real redis-server by integration.bandsync_cluster).
// What is left is the I/O glue, in marked sections: routing, outbox, pub/sub,
// timers, views. The first to move out if it grows: the outbox (a nested class
// that could hold a reference to the routing state instead).

#include <algorithm>
#include <random>

#include <spdlog/spdlog.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "bandsync/events.hpp"
#include "bandsync/payloads.hpp"
#include "bandsync/requests.hpp"
#include "cluster/scripts.hpp"
#include "socketio/message.hpp"
#include "socketio/server.hpp"
#include "socketio/socket.hpp"
#include "store/redis_connection.hpp"
#include "store/resp.hpp"
#include "store/session_record.hpp"
#include "store/setlist_record.hpp"

namespace bandsync::cluster {

namespace net = boost::asio;
using store::redis_reply;

namespace {

// Removes the entries of `deadlines` (key -> steady µs) whose time has come
// and returns their keys.
std::vector<std::string> take_due(std::unordered_map<std::string, int64_t>& deadlines,
                                  int64_t now) {
  std::vector<std::string> due;
  for (auto it = deadlines.begin(); it != deadlines.end();) {
    if (now < it->second) {
      ++it;
      continue;
    }
    due.push_back(it->first);
    it = deadlines.erase(it);
  }
  return due;
}

std::string lease_key(const std::string& session) {
  return "lease:" + session;
}

std::string node_lease_key(std::string_view node) {
  return "nodelease:" + std::string(node);
}

// Node-internal event (never routed from a client: session_of knows only the
// contract's events): a socket that joined another session, on another
// owner, leaves this one as join_session does on one node.
constexpr std::string_view depart_event = "cluster:depart";

// The session an event is addressed to: its payload's sessionId, for
// join_session and every member/leader event. Events for no session (and
// payloads without a string sessionId, which the service refuses) run here.
std::optional<std::string> session_of(std::string_view event, const boost::json::array& args) {
  auto index = domain::event_index(event);
  if (!index) return std::nullopt;
  if (domain::event_table()[*index].who == domain::sender::anyone && event != "join_session") {
    return std::nullopt;
  }
  if (args.empty()) return std::nullopt;
  const auto* o = args[0].if_object();
  if (!o) return std::nullopt;
  const auto* id = o->if_contains("sessionId");
  if (!id || !id->is_string() || !domain::valid_session_id(id->get_string())) return std::nullopt;
  return std::string(id->get_string());
}

// The arguments of an event packet as another node encoded it (the Engine.IO
// text frame: "4" + the Socket.IO packet), without its name.
std::optional<boost::json::array> event_args(std::string_view frame) {
  if (frame.empty() || frame[0] != '4') return std::nullopt;
  auto p = socketio::decode(frame.substr(1));
  if (!p || p->type != socketio::packet_type::event || !p->data.is_array()) return std::nullopt;
  auto& data = p->data.as_array();
  if (data.empty()) return std::nullopt;
  data.erase(data.begin());
  return std::move(data);
}

socketio::encoded_packet packet_of(std::string text) {
  socketio::encoded_packet p;
  p.frames.push_back(engineio::frame{false, std::make_shared<const std::string>(std::move(text))});
  return p;
}

std::string command(std::string_view script, const std::vector<std::string>& keys,
                    const std::vector<std::string>& argv) {
  std::vector<std::string_view> args{"EVAL", script};
  std::string nkeys = std::to_string(keys.size());
  args.push_back(nkeys);
  for (const auto& k : keys) args.push_back(k);
  for (const auto& a : argv) args.push_back(a);
  return store::format_command(args);
}

}  // namespace

node::node(net::io_context& ioc, node_options options, socketio::socket_namespace& ns,
           store::redis_store& store)
    : ioc_(ioc),
      options_(std::move(options)),
      ns_(ns),
      store_(store),
      cmd_(store::redis_connection::create(ioc.get_executor(), options_.connection)),
      sub_(store::redis_connection::create(ioc.get_executor(), options_.connection)),
      leases_(options_.node_id, options_.lease),
      renew_timer_(ioc),
      takeover_timer_(ioc),
      heartbeat_timer_(ioc),
      // Two heartbeat rounds (room_channels.hpp: a forwarded join's answer).
      channels_(2 *
                std::chrono::duration_cast<std::chrono::microseconds>(options_.heartbeat_interval)
                    .count()) {
  sub_->set_push_handler([this](std::string&& channel, std::string&& payload) {
    on_push(std::move(channel), std::move(payload));
  });
  sub_->set_state_handler([this](bool ready) { on_sub_state(ready); });
}

node::~node() {
  stop();
}

void node::bind(domain::session_service& service) {
  service_ = &service;
  store_.set_fencing(
      [this](const std::string& session) -> std::optional<store::redis_store::fence> {
        if (!leases_.owns(session, now_us())) return std::nullopt;
        auto value = leases_.token(session);
        if (!value) return std::nullopt;
        return store::redis_store::fence{std::move(*value), node_lease_key(options_.node_id),
                                         leases_.epoch()};
      },
      [this](const std::string& session) {
        // Redis refused a write: the lease is another node's now.
        net::post(ioc_, [this, session, life = std::weak_ptr<int>(life_)] {
          if (!life.expired() && leases_.token(session)) relinquish(session, "write refused");
        });
      });
  // As glue::attach: these are never stored for connection state recovery.
  for (const char* event :
       {"scroll_tick", "heartbeat", "latency_response", "time_sync_response", "room_stats"}) {
    ns_.mark_volatile(event);
  }
  ns_.on_connection([this](const socketio::socket_ptr& s) {
    service_->on_connect(s->id(), s->remote_address());
    s->on_any([this](const socketio::socket_ptr& s, std::string_view event, socketio::message& m,
                     socketio::ack_fn ack) {
      domain::ack_reply reply;
      if (ack) {
        reply = [ack = std::move(ack)](const boost::json::value& payload) {
          ack(socketio::message{boost::json::array{payload}, {}});
        };
      }
      on_local_event(s->id(), s->remote_address(), event, std::move(m.args), std::move(reply));
    });
  });
  // A held socket keeps its seat while it may come back, wherever the
  // session runs: here (its connection entry is bound to the session only
  // on the owner), and on every owner its events went to (EVENTS.md
  // "Cluster", held seats).
  ns_.on_disconnect([this](const socketio::socket_ptr& s, std::string_view reason, bool held) {
    spdlog::debug("cluster: local socket {} lost ({}, {})", s->id(), reason,
                  held ? "held" : "gone");
    if (!held) return on_local_disconnect(s->id());
    // A connection entry marked held here without a session would not be
    // marked again if this node later adopts the session (load()).
    if (const auto* c = service_->find_connection(s->id()); c && c->session_id) {
      service_->on_hold(s->id());
    }
    tell_owners(wire_kind::hold, s->id());
  });
  ns_.on_recover([this](const socketio::socket_ptr& s) {
    spdlog::debug("cluster: local socket {} recovered", s->id());
    service_->on_recover(s->id());
    tell_owners(wire_kind::recover, s->id());
  });
  ns_.on_expire(
      [this](const socketio::socket_ptr& s, std::string_view) { on_local_disconnect(s->id()); });
}

void node::start() {
  cmd_->start();
  sub_->start();
  arm(renew_timer_, std::chrono::milliseconds(options_.lease.renew_ms), &node::renew_round);
  arm(takeover_timer_, options_.takeover_poll, &node::takeover_round);
  arm(heartbeat_timer_, options_.heartbeat_interval, &node::heartbeat_round);
  spdlog::info("cluster: node {} (lease PX {} ms, renewed every {} ms; node TTL {} ms)",
               options_.node_id, options_.lease.ttl_ms, options_.lease.renew_ms,
               options_.node_ttl.count());
}

void node::stop() {
  if (stopped_) return;
  stopped_ = true;
  renew_timer_.cancel();
  takeover_timer_.cancel();
  heartbeat_timer_.cancel();
  // Leases are given back so that survivors take over at once.
  if (cmd_->ready()) {
    std::string commands;
    size_t n = 0;
    for (const auto& [session, token] : leases_.owned()) {
      commands += command(scripts::release, {lease_key(session)}, {token});
      ++n;
    }
    if (!leases_.epoch().empty()) {
      commands += command(scripts::release, {node_lease_key(options_.node_id)}, {leases_.epoch()});
      ++n;
    }
    if (n > 0) cmd_->send(std::move(commands), n, [](auto&&, auto&&) {});
  }
  // From now on nothing of those sessions is sent or written from here.
  if (service_) {
    for (const auto& [session, token] : leases_.owned()) {
      leases_.drop(session);
      for (const auto& sid : service_->evict(session)) {
        if (remote_.contains(sid)) forget_remote(sid);
      }
    }
  }
  sub_->stop();
  // cmd_ is stopped by its destructor after the loop ends (the releases may
  // still go out while the loop drains).
}

int64_t node::now_us() const {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void node::arm(net::steady_timer& t, std::chrono::milliseconds every, void (node::*fn)()) {
  t.expires_after(every);
  t.async_wait([this, &t, every, fn](boost::system::error_code ec) {
    if (ec || stopped_) return;
    (this->*fn)();
    arm(t, every, fn);
  });
}

void node::send(std::string commands, size_t count,
                std::function<void(bool, std::vector<redis_reply>&&)> done) {
  counters_.redis_commands += count;
  auto ec = cmd_->send(std::move(commands), count,
                       [done, life = std::weak_ptr<int>(life_)](const boost::system::error_code& ec,
                                                                std::vector<redis_reply>&& r) {
                         if (life.expired()) return;
                         if (done) done(!ec, std::move(r));
                       });
  if (ec && done) {
    net::post(ioc_, [done, life = std::weak_ptr<int>(life_)] {
      if (!life.expired()) done(false, {});
    });
  }
}

void node::publish(const std::string& channel, const wire_message& m) {
  ++counters_.published;
  send(store::format_command({"PUBLISH", channel, encode(m)}), 1, nullptr);
}

// ------------------------------------------------------------------ routing

void node::on_local_event(const std::string& sid, const std::string& address,
                          std::string_view event, boost::json::array args, domain::ack_reply ack) {
  auto session = session_of(event, args);
  if (!session) {
    service_->on_event(sid, event, args, ack);
    return;
  }
  route(pending_event{options_.node_id, sid, std::string(event), std::move(args), std::move(ack),
                      std::nullopt, address, 0, false},
        *session);
}

void node::route(pending_event e, const std::string& session) {
  int64_t now = now_us();
  // An event of one of our sockets waits until we hear the session's channel:
  // the owner's first broadcast after it (room_stats of a join) must not pass
  // our subscription.
  bool local = e.origin == options_.node_id;
  if (local) channels_.used(session, now);
  bool settling = loading_.contains(session) || (local && !subscribed(session));
  if (!settling && leases_.owns(session, now)) return deliver(std::move(e));
  if (!settling) {
    if (auto owner = leases_.owner(session, now)) return forward(std::move(e), *owner, session);
  }
  queue(std::move(e), session);
  if (local) ensure_subscribed(session);
  if (!loading_.contains(session) && (!local || subscribed(session))) resolve(session);
}

void node::deliver(pending_event e) {
  if (e.event == depart_event) {
    // Only if it is still a member here: the owner of both sessions has
    // already moved it (join_session), and a stale notice changes nothing.
    const auto* conn = service_->find_connection(e.sid);
    const auto* o = e.args.empty() ? nullptr : e.args[0].if_object();
    const auto* id = o ? o->if_contains("sessionId") : nullptr;
    if (conn && id && id->is_string() && conn->session_id == std::string_view(id->get_string())) {
      service_->on_event(e.sid, "leave_session", e.args, {});
    }
    return;
  }
  if (e.origin != options_.node_id) {
    auto [it, added] = remote_.try_emplace(e.sid, e.origin);
    if (added) {
      service_->on_connect(e.sid, e.address);
    } else {
      it->second = e.origin;
    }
    adopt_orphan(e.sid);
  }
  domain::ack_reply reply = std::move(e.local_ack);
  if (e.remote_ack && e.origin == options_.node_id) {
    // Our own socket's event, back here after a detour (relayed): its ack
    // waits in acks_ (a publish to our own channel would be ignored).
    reply = [this, sid = e.sid, id = *e.remote_ack](const boost::json::value& payload) {
      answer_ack(sid, id, payload);
    };
  } else if (e.remote_ack) {
    reply = [this, origin = e.origin, sid = e.sid,
             id = *e.remote_ack](const boost::json::value& payload) {
      wire_message m;
      m.kind = wire_kind::ack;
      m.from = options_.node_id;
      m.sid = sid;
      m.ack = id;
      m.body = boost::json::serialize(payload);
      publish(node_channel(origin), m);
    };
  }
  service_->on_event(e.sid, e.event, e.args, reply);
}

void node::forward(pending_event e, const std::string& owner, const std::string& session) {
  wire_message m;
  m.kind = wire_kind::forward;
  m.from = options_.node_id;
  m.sid = e.sid;
  m.session = session;
  m.event = e.event;
  m.ack = e.remote_ack;
  m.body = boost::json::serialize(e.args);
  m.address = e.address;
  if (!e.relayed) {
    forwarded_to_[e.sid].insert(owner);
    if (e.local_ack) {
      // Remembered until the owner answers; the oldest is dropped beyond the
      // bound (its client never gets that ack, as with a lost connection).
      uint64_t id = ++next_ack_;
      acks_.emplace(id, std::make_pair(e.sid, std::move(e.local_ack)));
      ack_order_.push_back(id);
      while (ack_order_.size() > options_.max_remote_acks) {
        acks_.erase(ack_order_.front());
        ack_order_.pop_front();
      }
      m.ack = id;
    }
  } else {
    // Not ours after all (the lease moved while the event travelled): passed
    // on with its origin, at most max_hops times in all. Two nodes that each
    // still name the other as the owner (both held the lease within one TTL)
    // would otherwise pass it back and forth until one of them learns better.
    if (e.hops >= max_hops) {
      ++counters_.hop_limited;
      spdlog::warn("cluster: {} from {} for session {} refused: passed on {} times (owner moving)",
                   e.event, e.sid, session, e.hops);
      if (e.event != depart_event) {
        emit_remote(e.origin, e.sid, "error",
                    domain::payloads::error(
                        domain::reply_error::server_busy,
                        "Session " + session + " is moving between nodes; retry shortly"));
      }
      return;
    }
    if (e.origin == options_.node_id) forwarded_to_[e.sid].insert(owner);
    m.from = e.origin;
    m.hops = e.hops + 1;
  }
  ++counters_.forwarded;
  publish(node_channel(owner), m);
}

void node::queue(pending_event e, const std::string& session) {
  auto it = pending_.find(session);
  if ((it == pending_.end() && pending_.size() >= options_.max_pending_sessions) ||
      (it != pending_.end() && it->second.size() >= options_.max_pending_events)) {
    ++counters_.events_dropped;
    spdlog::warn("cluster: {} from {} for session {} dropped (too many events wait for its owner)",
                 e.event, e.sid, session);
    return;
  }
  pending_[session].push_back(std::move(e));
}

void node::drain(const std::string& session) {
  auto it = pending_.find(session);
  if (it == pending_.end()) return;
  std::deque<pending_event> events = std::move(it->second);
  pending_.erase(it);
  for (auto& e : events) route(std::move(e), session);
}

void node::resolve(const std::string& session) {
  if (!resolving_.insert(session).second) return;
  int64_t sent = now_us();
  send(command(scripts::acquire, {lease_key(session)},
               {options_.node_id, leases_.epoch(), std::to_string(options_.fence_ttl_seconds),
                std::to_string(options_.lease_key_ttl_seconds)}),
       1, [this, session, sent](bool ok, std::vector<redis_reply>&& r) {
         resolving_.erase(session);
         if (!ok || r.empty() || r[0].elements.size() != 1 ||
             r[0].elements[0].elements.size() != 2 || r[0].elements[0].elements[0].str.empty()) {
           // Redis is unreachable, or this node has no node lease yet (it
           // is joining): the events wait (bounded) and are tried again.
           if (!ok) spdlog::warn("cluster: cannot resolve the owner of session {}", session);
           net::post(ioc_, [this, session, life = std::weak_ptr<int>(life_)] {
             if (life.expired() || stopped_) return;
             auto t = std::make_shared<net::steady_timer>(ioc_, options_.takeover_poll);
             t->async_wait([this, session, t, life](boost::system::error_code ec) {
               if (!ec && !life.expired() && !stopped_ && pending_.contains(session)) {
                 resolve(session);
               }
             });
           });
           return;
         }
         bool had = leases_.token(session).has_value();
         const auto& answer = r[0].elements[0].elements;
         auto outcome = leases_.on_acquired(session, answer[0].str, sent);
         if (outcome == lease_table::outcome::foreign) {
           if (auto owner = leases_.last_owner(session)) {
             node_poll_[owner->first] = sent + std::max<int64_t>(answer[1].integer, 0) * 1000;
           }
         }
         if (outcome == lease_table::outcome::acquired) {
           if (!had) load(session, false);
           return;
         }
         if (had) relinquish(session, "held by another node");
         drain(session);
       });
}

void node::load(const std::string& session, bool failover) {
  loading_.insert(session);
  ++counters_.leases_acquired;
  if (failover) ++counters_.failovers;
  send(store::format_command({"GET", "session:" + session}) +
           store::format_command({"GET", "setlist:" + session}),
       2, [this, session, failover](bool ok, std::vector<redis_reply>&& r) {
         loading_.erase(session);
         if (!ok || r.size() != 2) {
           // Without the record the session cannot run here safely.
           leases_.drop(session);
           drain(session);
           return;
         }
         if (r[0].type == redis_reply::kind::string) {
           std::string error;
           boost::system::error_code ec;
           auto value = boost::json::parse(r[0].str, ec);
           auto record = ec ? std::nullopt : store::session_from_json(session, value, &error);
           if (record && r[1].type == redis_reply::kind::string) {
             auto songs_value = boost::json::parse(r[1].str, ec);
             if (!ec) {
               if (auto songs = store::setlist_from_json(songs_value)) record->setlist = *songs;
             }
           }
           if (record && service_->adopt(*record)) {
             // Members on other nodes say so (attach); the others are gone
             // once a node heartbeat could have said otherwise.
             claim_deadline_[session] = now_us() + options_.node_ttl.count() * 1000;
             // Our own held sockets keep their seats held (the record says
             // nothing of connections).
             if (const auto* adopted = service_->find_session(session)) {
               std::vector<std::string> held;
               for (const auto& member : adopted->members()) {
                 if (auto sock = ns_.find(member.socket_id); sock && sock->held()) {
                   held.push_back(member.socket_id);
                 }
               }
               for (const auto& sid : held) service_->on_hold(sid);
             }
           } else {
             spdlog::warn("cluster: session {} in Redis is unreadable ({}); starting afresh",
                          session, error);
           }
         }
         spdlog::info("cluster: node {} runs session {} (lease {}{})", options_.node_id, session,
                      leases_.version(session).value_or(0), failover ? ", failover" : "");
         wire_message m;
         m.kind = wire_kind::owner;
         m.from = options_.node_id;
         m.session = session;
         m.version = leases_.version(session).value_or(0);
         publish(room_channel(session), m);
         drain(session);
       });
}

void node::relinquish(const std::string& session, std::string_view why) {
  ++counters_.leases_lost;
  leases_.drop(session);
  claim_deadline_.erase(session);
  auto members = service_->evict(session);
  for (const auto& sid : members) {
    if (remote_.contains(sid)) forget_remote(sid);
    if (orphans_.erase(sid) > 0) service_->on_disconnect(sid);  // its entry only: unbound
    // A local held socket's entry forgets its hold with its seat (nothing is
    // sent: the entry is unbound), so that adopting the session again holds
    // the seat again (load()).
    if (auto s = ns_.find(sid); s && s->held()) service_->on_recover(sid);
  }
  spdlog::warn("cluster: node {} stopped running session {} ({})", options_.node_id, session, why);
}

void node::forget_remote(const std::string& sid) {
  remote_.erase(sid);
  service_->on_disconnect(sid);
}

void node::orphan(const std::string& sid) {
  remote_.erase(sid);
  const auto window = ns_.opts().recovery.window;
  const auto* c = service_->find_connection(sid);
  if (window.count() <= 0 || !c || !c->session_id) {
    orphans_.erase(sid);
    service_->on_disconnect(sid);
    return;
  }
  orphans_[sid] = now_us() + std::chrono::duration_cast<std::chrono::microseconds>(window).count();
  service_->on_hold(sid);  // nothing new when its node had reported it held
}

void node::adopt_orphan(const std::string& sid) {
  if (orphans_.erase(sid) > 0) service_->on_recover(sid);
}

void node::answer_ack(const std::string& sid, uint64_t id, const boost::json::value& payload) {
  auto it = acks_.find(id);
  if (it == acks_.end() || it->second.first != sid) return;
  auto fn = std::move(it->second.second);
  acks_.erase(it);
  if (fn) fn(payload);
}

void node::tell_owners(wire_kind kind, const std::string& sid) {
  auto it = forwarded_to_.find(sid);
  if (it == forwarded_to_.end()) return;
  for (const auto& owner : it->second) {
    if (owner == options_.node_id) continue;
    spdlog::debug("cluster: {} of {} told to {}", kind_name(kind), sid, owner);
    wire_message m;
    m.kind = kind;
    m.from = options_.node_id;
    m.sid = sid;
    publish(node_channel(owner), m);
  }
}

void node::emit_remote(const std::string& to, const std::string& sid, std::string_view event,
                       const boost::json::value& payload) {
  if (to == options_.node_id) {
    if (auto s = ns_.find(sid)) s->emit(event, boost::json::array{payload});
    return;
  }
  auto p =
      socketio::encode_event(ns_.name(), event, socketio::message{boost::json::array{payload}, {}});
  wire_message m;
  m.kind = wire_kind::emit;
  m.from = options_.node_id;
  m.sid = sid;
  if (ns_.stores(event, false)) m.event = std::string(event);
  m.body = *p.frames[0].data;
  publish(node_channel(to), m);
}

void node::deliver_packet(const std::string& room, const std::string& sid, const std::string& event,
                          std::string&& body) {
  if (!event.empty() && ns_.stores(event, false)) {
    if (auto args = event_args(body)) {
      socketio::message msg{std::move(*args), {}};
      if (!sid.empty()) {
        if (auto s = ns_.find(sid)) s->emit(event, std::move(msg));
      } else {
        ns_.to(room).emit(event, msg);
      }
      return;
    }
    ++counters_.bad_messages;
  }
  if (!sid.empty()) {
    if (auto s = ns_.find(sid)) s->send_encoded(packet_of(std::move(body)));
  } else {
    ns_.to(room).send_encoded(packet_of(std::move(body)));
  }
}

void node::on_local_disconnect(const std::string& sid) {
  service_->on_disconnect(sid);
  if (auto it = forwarded_to_.find(sid); it != forwarded_to_.end()) {
    for (const auto& owner : it->second) {
      if (owner == options_.node_id) continue;
      wire_message m;
      m.kind = wire_kind::disconnect;
      m.from = options_.node_id;
      m.sid = sid;
      publish(node_channel(owner), m);
    }
    forwarded_to_.erase(it);
  }
  if (auto it = local_room_of_.find(sid); it != local_room_of_.end()) {
    local_leave(sid, it->second);
  }
}

void node::local_join(const std::string& sid, const std::string& session) {
  auto socket = ns_.find(sid);
  if (socket) socket->join(session);
  if (auto it = local_room_of_.find(sid); it != local_room_of_.end() && it->second != session) {
    std::string previous = it->second;
    local_leave(sid, previous);
    // The join ran on the new session's owner, which may not run the old
    // one: its owner is told, wherever it is (deliver ignores the notice
    // when the member is already gone there). Posted: this may run inside
    // the service's own join handler.
    net::post(
        ioc_, [this, sid, previous, address = socket ? socket->remote_address() : std::string(),
               life = std::weak_ptr<int>(life_)] {
          if (life.expired() || stopped_) return;
          route(pending_event{options_.node_id,
                              sid,
                              std::string(depart_event),
                              boost::json::array{boost::json::object{{"sessionId", previous}}},
                              {},
                              std::nullopt,
                              address,
                              0,
                              false},
                previous);
        });
  }
  local_room_of_[sid] = session;
  local_rooms_[session].insert(sid);
  ensure_subscribed(session);
}

void node::local_leave(const std::string& sid, const std::string& session) {
  if (auto s = ns_.find(sid)) s->leave(session);
  if (auto it = local_room_of_.find(sid); it != local_room_of_.end() && it->second == session) {
    local_room_of_.erase(it);
  }
  if (auto it = local_rooms_.find(session); it != local_rooms_.end()) {
    it->second.erase(sid);
    if (it->second.empty()) local_rooms_.erase(it);
  }
}

// ------------------------------------------------------------------ outbox

void node::cluster_outbox::emit_to(const std::string& conn_id, std::string_view event,
                                   const boost::json::value& payload) {
  if (auto s = n_.ns_.find(conn_id)) {
    s->emit(event, boost::json::array{payload});
    return;
  }
  auto it = n_.remote_.find(conn_id);
  if (it == n_.remote_.end()) return;  // gone (or not yet claimed after a takeover)
  // Every node sends `heartbeat` to its own connections (heartbeat_round).
  if (event == "heartbeat") return;
  n_.emit_remote(it->second, conn_id, event, payload);
}

void node::cluster_outbox::emit_to_session(const std::string& session_id, std::string_view event,
                                           const boost::json::value& payload) {
  if (!n_.leases_.owns(session_id, n_.now_us())) {
    // The lease lapsed (a paused process woke up): nothing more from here.
    if (n_.leases_.token(session_id)) {
      net::post(n_.ioc_, [&n = n_, session_id, life = std::weak_ptr<int>(n_.life_)] {
        if (!life.expired() && n.leases_.token(session_id) &&
            !n.leases_.owns(session_id, n.now_us())) {
          n.relinquish(session_id, "lease expired");
        }
      });
    }
    return;
  }
  // A stored event (recovery on, not volatile) goes through the namespace's
  // stored path here, with this node's offset, and travels without one: each
  // node stores it for its own sockets. Ticks keep the encode-once path.
  const bool stored = n_.ns_.stores(event, false);
  socketio::encoded_packet p;
  if (stored) {
    n_.ns_.to(session_id).emit(event, boost::json::array{payload});
  } else {
    p = socketio::encode_event(n_.ns_.name(), event,
                               socketio::message{boost::json::array{payload}, {}});
    n_.ns_.to(session_id).send_encoded(p);
  }
  bool elsewhere = false;
  if (const auto* s = n_.service_->find_session(session_id)) {
    for (const auto& m : s->members()) {
      if (!n_.ns_.find(m.socket_id)) {
        elsewhere = true;
        break;
      }
    }
  }
  if (!elsewhere) return;
  ++n_.counters_.broadcasts;
  if (stored) {
    p = socketio::encode_event(n_.ns_.name(), event,
                               socketio::message{boost::json::array{payload}, {}});
  }
  wire_message m;
  m.kind = wire_kind::broadcast;
  m.from = n_.options_.node_id;
  m.session = session_id;
  m.version = n_.leases_.version(session_id).value_or(0);
  if (stored) m.event = std::string(event);
  m.body = *p.frames[0].data;
  n_.publish(room_channel(session_id), m);
}

void node::cluster_outbox::join_room(const std::string& conn_id, const std::string& session_id) {
  if (n_.ns_.find(conn_id)) return n_.local_join(conn_id, session_id);
  forward_room(wire_kind::join, conn_id, session_id);
}

void node::cluster_outbox::leave_room(const std::string& conn_id, const std::string& session_id) {
  if (n_.ns_.find(conn_id)) return n_.local_leave(conn_id, session_id);
  forward_room(wire_kind::leave, conn_id, session_id);
}

// A remote socket's room change is carried out by the node that holds it.
void node::cluster_outbox::forward_room(wire_kind kind, const std::string& conn_id,
                                        const std::string& session_id) {
  auto it = n_.remote_.find(conn_id);
  if (it == n_.remote_.end()) return;
  wire_message m;
  m.kind = kind;
  m.from = n_.options_.node_id;
  m.sid = conn_id;
  m.session = session_id;
  n_.publish(node_channel(it->second), m);
}

// ------------------------------------------------------------------ pub/sub

bool node::subscribed(const std::string& session) const {
  return channels_.subscribed(session);
}

void node::ensure_subscribed(const std::string& session) {
  if (!channels_.add(session) || !sub_->ready()) return;
  ++counters_.redis_commands;
  sub_->send(store::format_command({"SUBSCRIBE", room_channel(session)}), 1,
             [this, session, life = std::weak_ptr<int>(life_)](const boost::system::error_code& ec,
                                                               std::vector<redis_reply>&&) {
               if (life.expired() || ec) return;  // the reconnection subscribes again
               if (channels_.confirm(session)) drain(session);
             });
}

void node::on_sub_state(bool ready) {
  channels_.unconfirm_all();
  if (!ready) return;
  std::vector<std::string> channels{"SUBSCRIBE", node_channel(options_.node_id)};
  std::vector<std::string> sessions = channels_.sessions();
  for (const auto& session : sessions) channels.push_back(room_channel(session));
  std::vector<std::string_view> args(channels.begin(), channels.end());
  counters_.redis_commands += 1;
  sub_->send(store::format_command(args), channels.size() - 1,
             [this, sessions, life = std::weak_ptr<int>(life_)](const boost::system::error_code& ec,
                                                                std::vector<redis_reply>&&) {
               if (life.expired() || ec) return;
               for (const auto& s : sessions) channels_.confirm(s);
               for (const auto& s : sessions) drain(s);
             });
}

void node::on_push(std::string&& channel, std::string&& payload) {
  std::string error;
  auto m = decode(payload, &error);
  if (!m) {
    ++counters_.bad_messages;
    spdlog::warn("cluster: unreadable message on {}: {}", channel, error);
    return;
  }
  if (m->from == options_.node_id && m->kind != wire_kind::forward) return;  // our own
  ++counters_.received;
  if (channel == node_channel(options_.node_id)) {
    on_node_message(std::move(*m));
  } else if (channel.starts_with("bs:r:")) {
    on_room_message(std::move(*m));
  }
}

void node::on_node_message(wire_message&& m) {
  switch (m.kind) {
    case wire_kind::forward: {
      boost::system::error_code ec;
      auto args = boost::json::parse(m.body, ec);
      if (ec || !args.is_array()) {
        ++counters_.bad_messages;
        return;
      }
      route(pending_event{m.from,
                          m.sid,
                          m.event,
                          std::move(args.as_array()),
                          {},
                          m.ack,
                          std::move(m.address),
                          m.hops,
                          true},
            m.session);
      return;
    }
    case wire_kind::disconnect:
      if (auto it = remote_.find(m.sid); it != remote_.end() && it->second == m.from) {
        forget_remote(m.sid);
      }
      return;
    case wire_kind::emit:
      deliver_packet({}, m.sid, m.event, std::move(m.body));
      return;
    case wire_kind::hold:
    case wire_kind::recover:
      spdlog::debug("cluster: {} of {} from {}", kind_name(m.kind), m.sid, m.from);
      // Only from the node that holds the socket (a stale notice from a node
      // the socket left is ignored, as for disconnect). One exception: an
      // orphan (its node looked gone: missed heartbeats, or no attach after
      // a takeover) has no entry in remote_, yet a notice about it proves
      // that its node is alive and holds it (a socket id lives on one node
      // only). Without this, the `recover` of a device that came back while
      // its node was paused was dropped here and its seat stayed held on
      // this owner until the device's next event, or was released at the
      // end of the window although the device was connected all along.
      // Both notices travel in order on one channel from that node, so the
      // last one applied is its socket's state now.
      if (orphans_.contains(m.sid) && !remote_.contains(m.sid) &&
          service_->find_connection(m.sid)) {
        remote_[m.sid] = m.from;
        // A `recover` connects the seat again (adopt_orphan); a `hold` leaves
        // it held, its window now the node's (the orphan's deadline goes).
        if (m.kind == wire_kind::recover) return adopt_orphan(m.sid);
        orphans_.erase(m.sid);
      }
      if (auto it = remote_.find(m.sid); it != remote_.end() && it->second == m.from) {
        if (m.kind == wire_kind::hold) {
          service_->on_hold(m.sid);
        } else {
          service_->on_recover(m.sid);
        }
      }
      return;
    case wire_kind::join:
      if (ns_.find(m.sid)) local_join(m.sid, m.session);
      return;
    case wire_kind::leave:
      local_leave(m.sid, m.session);
      return;
    case wire_kind::ack: {
      boost::system::error_code ec;
      auto payload = boost::json::parse(m.body, ec);
      if (!ec) answer_ack(m.sid, *m.ack, payload);
      return;
    }
    case wire_kind::attach: {
      if (!leases_.token(m.session)) return;
      boost::system::error_code ec;
      auto sids = boost::json::parse(m.body, ec);
      if (ec || !sids.is_array()) return;
      const auto* s = service_->find_session(m.session);
      if (!s) return;
      for (const auto& v : sids.as_array()) {
        if (!v.is_string()) continue;
        std::string sid(v.get_string());
        if (ns_.find(sid)) continue;
        if (!s->find_member(sid)) {
          // Dropped meanwhile (its node was silent too long): out of the room.
          wire_message l;
          l.kind = wire_kind::leave;
          l.from = options_.node_id;
          l.sid = sid;
          l.session = m.session;
          publish(node_channel(m.from), l);
          continue;
        }
        spdlog::debug("cluster: {} attached from {} for {}", sid, m.from, m.session);
        remote_[sid] = m.from;
        adopt_orphan(sid);
      }
      return;
    }
    case wire_kind::broadcast:
    case wire_kind::owner:
      return;  // room messages only
  }
}

void node::on_room_message(wire_message&& m) {
  int64_t now = now_us();
  if (m.kind == wire_kind::broadcast) {
    leases_.note_owner(m.session, m.from, m.version, now);
    if (!leases_.owns(m.session, now)) deliver_packet(m.session, {}, m.event, std::move(m.body));
    return;
  }
  if (m.kind != wire_kind::owner) return;
  if (auto mine = leases_.version(m.session);
      leases_.token(m.session) && mine && *mine < m.version) {
    relinquish(m.session, "taken over by " + m.from);
  }
  leases_.note_owner(m.session, m.from, m.version, now);
  // Our sockets in the room are members there: tell the new owner.
  boost::json::array sids;
  std::vector<std::string> held;
  if (auto it = local_rooms_.find(m.session); it != local_rooms_.end()) {
    for (const auto& sid : it->second) {
      sids.emplace_back(sid);
      forwarded_to_[sid].insert(m.from);
      if (auto s = ns_.find(sid); s && s->held()) held.push_back(sid);
    }
  }
  if (!sids.empty()) {
    wire_message a;
    a.kind = wire_kind::attach;
    a.from = options_.node_id;
    a.session = m.session;
    a.body = boost::json::serialize(sids);
    publish(node_channel(m.from), a);
    // The new owner read the members from Redis, all connected: the held
    // ones are held there too (after the attach, on the same channel).
    spdlog::debug("cluster: attach of {} to {} for {} ({} held)", a.body, m.from, m.session,
                  held.size());
    for (const auto& sid : held) {
      wire_message h;
      h.kind = wire_kind::hold;
      h.from = options_.node_id;
      h.sid = sid;
      publish(node_channel(m.from), h);
    }
  }
  drain(m.session);
}

// ------------------------------------------------------------------ timers

void node::renew_round() {
  int64_t now = now_us();
  if (!leases_.epoch().empty() && !leases_.node_valid(now)) lose_node("lease not renewed in time");
  // Members left unclaimed after a takeover were on a node that is gone.
  for (const auto& session : take_due(claim_deadline_, now)) {
    const auto* s = service_->find_session(session);
    if (!s) continue;
    std::vector<std::string> gone;
    for (const auto& m : s->members()) {
      if (!ns_.find(m.socket_id) && !remote_.contains(m.socket_id)) gone.push_back(m.socket_id);
    }
    for (const auto& sid : gone) {
      spdlog::info("cluster: session {}: member {} was on a node that is gone", session, sid);
      orphan(sid);
    }
  }
  // Held seats of members whose node is gone, at the end of their window.
  for (const auto& sid : take_due(orphans_, now)) {
    if (!remote_.contains(sid) && !ns_.find(sid)) service_->on_disconnect(sid);
  }
  if (!cmd_->ready()) return;
  if (leases_.epoch().empty()) return join_node();
  // One renewal for the node, whatever the number of its sessions.
  std::string epoch = leases_.epoch();
  send(command(scripts::node_renew, {node_lease_key(options_.node_id)},
               {epoch, std::to_string(options_.lease.ttl_ms)}),
       1, [this, epoch, sent = now](bool ok, std::vector<redis_reply>&& r) {
         if (!ok || r.empty() || leases_.epoch() != epoch) return;
         if (r[0].integer == 1) {
           leases_.on_node_lease(epoch, sent);
         } else {
           lose_node("node lease taken or expired in Redis");
         }
       });
  std::string releases;
  size_t release_count = 0;
  std::vector<std::string> keys;
  std::vector<std::string> argv{std::to_string(options_.lease_key_ttl_seconds)};
  for (auto& [session, token] : leases_.owned()) {
    if (!service_->find_session(session) && !loading_.contains(session) &&
        !pending_.contains(session)) {
      // Swept, or never created: the lease goes back.
      releases += command(scripts::release, {lease_key(session)}, {token});
      ++release_count;
      leases_.drop(session);
      continue;
    }
    keys.push_back(lease_key(session));
    argv.push_back(std::move(token));
  }
  if (release_count > 0) send(std::move(releases), release_count, nullptr);
  if (now >= next_touch_us_ && !keys.empty()) {
    next_touch_us_ = now + options_.touch_interval.count() * 1000;
    send(command(scripts::touch, keys, argv), 1, nullptr);
  }
}

void node::join_node() {
  if (joining_) return;
  joining_ = true;
  send(command(scripts::node_join, {node_lease_key(options_.node_id), "bs:epoch"},
               {std::to_string(options_.lease.ttl_ms)}),
       1, [this, sent = now_us()](bool ok, std::vector<redis_reply>&& r) {
         joining_ = false;
         if (!ok || r.empty() || r[0].type != redis_reply::kind::string || r[0].str.empty()) return;
         leases_.on_node_lease(r[0].str, sent);
         spdlog::info("cluster: node {} holds its node lease (epoch {})", options_.node_id,
                      r[0].str);
       });
}

// The node lease lapsed here or in Redis: every session goes (another node
// may hold it by now), and the node joins again under a new epoch, so that
// sessions nobody took over are free for anyone, this node included.
void node::lose_node(std::string_view why) {
  for (const auto& [session, token] : leases_.owned()) relinquish(session, why);
  if (!leases_.epoch().empty()) {
    spdlog::warn("cluster: node {} lost its node lease (epoch {}): {}", options_.node_id,
                 leases_.epoch(), why);
  }
  leases_.lose_node();
}

void node::takeover_round() {
  if (!cmd_->ready() || leases_.epoch().empty()) return;
  int64_t now = now_us();
  std::unordered_map<std::string, std::vector<std::string>> by_owner;
  std::vector<std::string> unknown;
  for (const auto& [session, sids] : local_rooms_) {
    if (leases_.token(session) || resolving_.contains(session) || loading_.contains(session)) {
      continue;
    }
    if (auto owner = leases_.last_owner(session)) {
      by_owner[owner->first].push_back(session);
    } else {
      unknown.push_back(session);
    }
  }
  if (!unknown.empty()) acquire_batch(std::move(unknown));
  // One probe per owner node, not before its node lease could have lapsed:
  // a live owner renews it every renew_ms, so this asks about once per
  // renewal, whatever the number of its sessions.
  std::vector<std::string> owners;
  std::vector<std::string> keys;
  for (const auto& [owner, sessions] : by_owner) {
    if (probing_.contains(owner)) continue;
    if (auto it = node_poll_.find(owner); it != node_poll_.end() && now < it->second) continue;
    owners.push_back(owner);
    keys.push_back(node_lease_key(owner));
    probing_.insert(owner);
  }
  if (keys.empty()) return;
  send(command(scripts::node_probe, keys, {}), 1,
       [this, owners, now](bool ok, std::vector<redis_reply>&& r) {
         for (const auto& o : owners) probing_.erase(o);
         if (!ok || r.empty() || r[0].elements.size() != owners.size()) return;
         std::unordered_map<std::string, std::string> live;  // owner -> its epoch now
         for (size_t i = 0; i < owners.size(); ++i) {
           const auto& a = r[0].elements[i].elements;
           if (a.size() == 2 && !a[0].str.empty() && a[1].integer > 0) {
             live[owners[i]] = a[0].str;
             node_poll_[owners[i]] = now + a[1].integer * 1000;
           } else {
             node_poll_.erase(owners[i]);
           }
         }
         // A session is left alone only while its owner's node lease holds
         // the epoch the session was taken under (an owner heard of only
         // through a broadcast is asked about once, which tells the epoch).
         std::vector<std::string> ask;
         for (const auto& [session, sids] : local_rooms_) {
           if (leases_.token(session) || resolving_.contains(session) ||
               loading_.contains(session)) {
             continue;
           }
           auto owner = leases_.last_owner(session);
           if (!owner || std::find(owners.begin(), owners.end(), owner->first) == owners.end()) {
             continue;
           }
           auto it = live.find(owner->first);
           if (it != live.end() && it->second == owner->second) continue;
           ask.push_back(session);
         }
         if (!ask.empty()) acquire_batch(std::move(ask));
       });
}

void node::acquire_batch(std::vector<std::string> sessions) {
  std::vector<std::string> keys;
  for (const auto& s : sessions) {
    keys.push_back(lease_key(s));
    resolving_.insert(s);
  }
  int64_t now = now_us();
  send(command(scripts::acquire, keys,
               {options_.node_id, leases_.epoch(), std::to_string(options_.fence_ttl_seconds),
                std::to_string(options_.lease_key_ttl_seconds)}),
       1, [this, sessions, now](bool ok, std::vector<redis_reply>&& r) {
         for (const auto& s : sessions) resolving_.erase(s);
         if (!ok || r.empty() || r[0].elements.size() != sessions.size()) return;
         for (size_t i = 0; i < sessions.size(); ++i) {
           const auto& session = sessions[i];
           const auto& answer = r[0].elements[i].elements;
           if (answer.size() != 2 || leases_.token(session)) continue;  // taken by an event
           auto outcome = leases_.on_acquired(session, answer[0].str, now);
           if (outcome == lease_table::outcome::acquired) {
             load(session, true);
           } else if (outcome == lease_table::outcome::foreign) {
             if (auto owner = leases_.last_owner(session)) {
               node_poll_[owner->first] = now + std::max<int64_t>(answer[1].integer, 0) * 1000;
             }
           }
         }
       });
}

void node::heartbeat_round() {
  if (!cmd_->ready()) return;
  boost::json::object info{{"nodeId", options_.node_id},
                           {"ownedSessions", leases_.owned_count()},
                           {"connections", ns_.size()}};
  send(command(scripts::heartbeat, {"node:" + options_.node_id, "bs:nodes"},
               {options_.node_id, std::to_string(options_.node_ttl.count()),
                boost::json::serialize(info)}),
       1, [this](bool ok, std::vector<redis_reply>&& r) {
         if (!ok || r.empty() || r[0].type != redis_reply::kind::array) return;
         std::set<std::string> peers;
         for (const auto& e : r[0].elements) peers.insert(e.str);
         for (const auto& p : peers) {
           if (!peers_.contains(p) && p != options_.node_id) spdlog::info("cluster: peer {} up", p);
         }
         for (const auto& p : peers_) {
           if (!peers.contains(p)) spdlog::warn("cluster: peer {} gone", p);
         }
         peers_ = std::move(peers);
         peers_known_ = true;
         // Sockets of a node whose heartbeat expired are gone: their seats
         // are held as for a dropped connection.
         std::vector<std::string> gone;
         for (const auto& [sid, n] : remote_) {
           if (!peers_.contains(n)) gone.push_back(sid);
         }
         for (const auto& sid : gone) {
           spdlog::info("cluster: member {} was on node {}, which is gone", sid, remote_[sid]);
           orphan(sid);
         }
       });
  // Owner nodes none of our rooms' sessions is known to belong to.
  std::unordered_set<std::string> watched;
  for (const auto& [session, sids] : local_rooms_) {
    if (auto owner = leases_.last_owner(session)) watched.insert(owner->first);
  }
  for (auto it = node_poll_.begin(); it != node_poll_.end();) {
    it = watched.contains(it->first) ? std::next(it) : node_poll_.erase(it);
  }
  // Rooms this node no longer has sockets in, and nothing waits for; a
  // channel a local event went to stays two rounds (room_channels.hpp).
  if (!sub_->ready()) return;
  auto drop = channels_.take_idle(now_us(), [this](const std::string& session) {
    return local_rooms_.contains(session) || pending_.contains(session) ||
           leases_.token(session).has_value() || ns_.room_size(session) > 0;
  });
  if (!drop.empty()) {
    std::vector<std::string> args{"UNSUBSCRIBE"};
    for (const auto& s : drop) args.push_back(room_channel(s));
    std::vector<std::string_view> views(args.begin(), args.end());
    ++counters_.redis_commands;
    sub_->send(store::format_command(views), drop.size(), [](auto&&, auto&&) {});
  }
}

// ------------------------------------------------------------------ views

boost::json::object node::health() const {
  boost::json::array peers;
  for (const auto& p : peers_) peers.emplace_back(p);
  return boost::json::object{{"nodeId", options_.node_id},
                             {"peers", std::move(peers)},
                             {"ownedSessions", leases_.owned_count()},
                             {"epoch", leases_.epoch()}};
}

node::counters node::stats() const {
  return counters_;
}

std::string random_node_id() {
  std::random_device rd;
  std::uniform_int_distribution<int> hex(0, 15);
  std::string id = "node-";
  for (int i = 0; i < 12; ++i) id += "0123456789abcdef"[hex(rd)];
  return id;
}

std::string metrics_text(const node& n) {
  auto c = n.stats();
  std::string out;
  auto line = [&](std::string_view name, std::string_view help, std::string_view type,
                  uint64_t value) {
    out += "# HELP " + std::string(name) + " " + std::string(help) + "\n";
    out += "# TYPE " + std::string(name) + " " + std::string(type) + "\n";
    out += std::string(name) + "{node=\"" + n.id() + "\"} " + std::to_string(value) + "\n";
  };
  line("bandsync_cluster_peers", "Live nodes on the Redis (this one included).", "gauge",
       n.peer_count());
  line("bandsync_cluster_owned_sessions", "Sessions whose lease this node holds.", "gauge",
       n.owned_sessions());
  line("bandsync_cluster_messages_published_total", "Pub/sub messages published.", "counter",
       c.published);
  line("bandsync_cluster_messages_received_total", "Pub/sub messages from other nodes.", "counter",
       c.received);
  line("bandsync_cluster_events_forwarded_total", "Client events forwarded to an owner.", "counter",
       c.forwarded);
  line("bandsync_cluster_broadcasts_total", "Room broadcasts published.", "counter", c.broadcasts);
  line("bandsync_cluster_leases_acquired_total", "Session leases taken.", "counter",
       c.leases_acquired);
  line("bandsync_cluster_leases_lost_total", "Session leases lost or given up.", "counter",
       c.leases_lost);
  line("bandsync_cluster_failovers_total", "Sessions taken over from a node that went away.",
       "counter", c.failovers);
  line("bandsync_cluster_events_dropped_total", "Events dropped while waiting for an owner.",
       "counter", c.events_dropped);
  line("bandsync_cluster_events_hop_limited_total",
       "Forwarded events refused after being passed on max_hops times.", "counter", c.hop_limited);
  line("bandsync_cluster_bad_messages_total", "Unreadable pub/sub messages.", "counter",
       c.bad_messages);
  line("bandsync_cluster_redis_commands_total", "Commands sent by the cluster's connections.",
       "counter", c.redis_commands);
  return out;
}

}  // namespace bandsync::cluster
