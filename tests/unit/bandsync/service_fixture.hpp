#pragma once
// A session_service wired to a fake clock, a recording outbox and a
// memory_store, with shorthands for the client side.

#include <memory>
#include <string>
#include <string_view>

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "bandsync/session_service.hpp"
#include "store/memory_store.hpp"
#include "test_support.hpp"

namespace bandsync::testing {

class service_test : public ::testing::Test {
 protected:
  service_test() { make_service(); }

  // A new service on the store, restored from it as the app does at start-up.
  void make_service(domain::service_options options = {}) {
    service_ = std::make_unique<domain::session_service>(clock_, out_, store_, options);
    service_->restore(store_.load_sessions());
  }

  domain::session_service& svc() { return *service_; }

  void connect(const std::string& conn) { svc().on_connect(conn); }

  // `json` is the payload as JSON text.
  void send(const std::string& conn, std::string_view event, const char* json) {
    svc().on_event(conn, event, args_json(json));
  }
  void send(const std::string& conn, std::string_view event, const std::string& json) {
    svc().on_event(conn, event, args_json(json));
  }
  void send(const std::string& conn, std::string_view event, boost::json::value payload) {
    svc().on_event(conn, event, args(std::move(payload)));
  }

  // Connects (if needed) and joins; clears the outbox afterwards.
  void join(const std::string& conn, const std::string& session, const std::string& name,
            std::string_view role = "") {
    if (!svc().find_connection(conn)) connect(conn);
    boost::json::object p{{"sessionId", session}, {"displayName", name}};
    if (!role.empty()) p["role"] = role;
    send(conn, "join_session", p);
    out_.clear();
  }

  // Makes `session` one a band used (a message from member `conn`), so that it
  // outlives its last member (a pristine session is dropped at once); clears
  // the outbox afterwards.
  void use(const std::string& conn, const std::string& session) {
    boost::json::object p{{"sessionId", session}, {"message", "Set list"}};
    send(conn, "update_message", p);
    out_.clear();
  }

  const domain::session& session(const std::string& id) {
    const auto* s = svc().find_session(id);
    EXPECT_NE(s, nullptr) << id;
    return *s;
  }

  // The single `error` reply expected as the only output since the last clear.
  void expect_only_error(const std::string& conn, std::string_view code,
                         std::string_view message = {}) {
    ASSERT_EQ(out_.log.size(), 1u) << ::testing::PrintToString(out_.trace());
    const auto& e = out_.log[0];
    EXPECT_EQ(e.how, sent::kind::to);
    EXPECT_EQ(e.target, conn);
    EXPECT_EQ(e.event, "error");
    EXPECT_EQ(e.obj().at("code"), boost::json::value(code));
    if (!message.empty()) {
      EXPECT_EQ(e.obj().at("message"), boost::json::value(message));
    }
    EXPECT_EQ(e.obj().size(), 2u);
  }

  fake_clock clock_;
  recording_outbox out_;
  store::memory_store store_;
  std::unique_ptr<domain::session_service> service_;
};

}  // namespace bandsync::testing
