#pragma once
// Test doubles for the domain: a clock the test moves by hand and an outbox
// that records every call in order.

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "bandsync/clock.hpp"
#include "bandsync/outbox.hpp"

namespace bandsync::testing {

class fake_clock : public domain::clock {
 public:
  int64_t steady_us() const override {
    int64_t now = steady_us_;
    steady_us_ += step_per_read_us_;  // time that passes while the caller works
    return now;
  }
  int64_t wall_ms() const override { return wall_ms_; }
  // Server time starts equal to the initial wall time and then follows steady
  // time only: set_wall_ms (a system clock adjustment) does not move it.
  int64_t server_offset_us() const override { return initial_wall_ms * 1000 - initial_steady_us; }

  // Moves both clocks; wall time follows steady time to the whole millisecond
  // (the sub-millisecond remainder is carried over).
  void advance_us(int64_t us) {
    steady_us_ += us;
    carry_us_ += us;
    wall_ms_ += carry_us_ / 1000;
    carry_us_ %= 1000;
  }
  void advance_ms(int64_t ms) { advance_us(ms * 1000); }
  void set_wall_ms(int64_t ms) { wall_ms_ = ms; }
  // Every steady_us() read moves steady time on by `us` (0: a frozen clock),
  // as the real one moves between reads in one loop turn. Wall time does
  // not follow.
  void set_step_per_read_us(int64_t us) { step_per_read_us_ = us; }

  static constexpr int64_t initial_steady_us = 5'000'000'000;  // an arbitrary origin, not 0
  static constexpr int64_t initial_wall_ms = 1'795'627'303'502;

 private:
  mutable int64_t steady_us_ = initial_steady_us;
  int64_t step_per_read_us_ = 0;
  int64_t wall_ms_ = initial_wall_ms;
  int64_t carry_us_ = 0;
};

struct sent {
  enum class kind { to, session, join, leave };
  kind how;
  std::string target;  // connection id (to, join, leave) or session id (session)
  std::string event;   // the room for join/leave
  boost::json::value payload;

  const boost::json::object& obj() const { return payload.as_object(); }
};

class recording_outbox : public domain::outbox {
 public:
  void emit_to(const std::string& conn_id, std::string_view event,
               const boost::json::value& payload) override {
    log.push_back({sent::kind::to, conn_id, std::string(event), payload});
  }
  void emit_to_session(const std::string& session_id, std::string_view event,
                       const boost::json::value& payload) override {
    log.push_back({sent::kind::session, session_id, std::string(event), payload});
  }
  void join_room(const std::string& conn_id, const std::string& session_id) override {
    log.push_back({sent::kind::join, conn_id, session_id, nullptr});
  }
  void leave_room(const std::string& conn_id, const std::string& session_id) override {
    log.push_back({sent::kind::leave, conn_id, session_id, nullptr});
  }

  // Event names of the emits (not room changes), in order, as "to:<conn> <event>"
  // or "session:<id> <event>".
  std::vector<std::string> trace() const {
    std::vector<std::string> out;
    for (const auto& s : log) {
      if (s.how == sent::kind::to) out.push_back("to:" + s.target + " " + s.event);
      if (s.how == sent::kind::session) out.push_back("session:" + s.target + " " + s.event);
    }
    return out;
  }

  // Emits (of either kind) named `event`.
  std::vector<const sent*> named(std::string_view event) const {
    std::vector<const sent*> out;
    for (const auto& s : log) {
      if ((s.how == sent::kind::to || s.how == sent::kind::session) && s.event == event) {
        out.push_back(&s);
      }
    }
    return out;
  }

  const sent* last(std::string_view event) const {
    auto all = named(event);
    return all.empty() ? nullptr : all.back();
  }

  void clear() { log.clear(); }

  std::vector<sent> log;
};

inline boost::json::array args(boost::json::value payload) {
  return boost::json::array{std::move(payload)};
}

inline boost::json::array args_json(std::string_view json) {
  return boost::json::array{boost::json::parse(json)};
}

}  // namespace bandsync::testing
