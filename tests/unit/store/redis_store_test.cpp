// The Redis store against a real redis-server: the EVENTS.md layout and TTLs,
// reading the old server's values, SCAN paging, one MULTI/EXEC per change,
// pipelining, outages (a killed, a hung and an absent server), AUTH/SELECT,
// the bounds. The behaviour every store shares is in the contract suite.

#include <chrono>
#include <string>

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "redis_server.hpp"
#include "redis_test_env.hpp"
#include "store/redis_store.hpp"

namespace bandsync::store {
namespace {

using namespace std::chrono_literals;
using bandsync::testing::redis_server;
using bandsync::testing::redis_test_env;

// The EVENTS.md example, as the old server wrote it.
constexpr const char* old_server_session =
    R"({"message":"Keys is leading","tempo":96,"position":42000,"isPlaying":false,
 "leaderSocketId":"sFi9k8dNrOz4Mq6PAAAA","tempoBpm":96,
 "members":[["sFi9k8dNrOz4Mq6PAAAA",{"socketId":"sFi9k8dNrOz4Mq6PAAAA","joinedAt":1795627303700,
              "lastPingAt":1795627303700,"role":"leader","displayName":"Keys"}],
            ["mo9bofWGLEl0vh2DAAAB",{"socketId":"mo9bofWGLEl0vh2DAAAB","joinedAt":1795627304107,
              "lastPingAt":1795627304107,"role":"follower","displayName":"Bass"}]],
 "createdAt":1795627303502,"lastActiveAt":1795627304714,"settings":{"maxMembers":8}})";

member_record member(std::string socket_id) {
  return {std::move(socket_id), "Guest", member_role::follower, 1, 1};
}

session_record band(const std::string& id, double tempo = 120) {
  session_record r;
  r.id = id;
  r.message = "Keys is leading";
  r.tempo = tempo;
  r.position_ms = 42000;
  r.leader_socket_id = "lead";
  r.members = {{"lead", "Keys", member_role::leader, 10, 11},
               {"bass", "Bass", member_role::follower, 12, 13}};
  r.created_at = 1000;
  r.last_active_at = 2000;
  return r;
}

class RedisStore : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!env().missing().empty()) GTEST_SKIP() << env().missing();
    ASSERT_EQ(env().start_error(), "");
  }

  static redis_test_env& env() { return redis_test_env::get(); }
  redis_server& shared() { return env().server(); }

  // A store on a server of the test's own (for outages), not started.
  std::unique_ptr<redis_store> store_on(uint16_t port, redis_store_options o = {}) {
    auto base = redis_test_env::options(port);
    o.connection = base.connection;
    o.load_timeout = base.load_timeout;
    return std::make_unique<redis_store>(env().ioc(), o);
  }

  std::optional<session_record> stored(redis_server& server, const std::string& id) {
    auto text = server.get("session:" + id);
    if (!text) return std::nullopt;
    return session_from_json(id, boost::json::parse(*text));
  }
};

TEST_F(RedisStore, WritesTheEventsLayoutWithTheTtl) {
  auto store = env().fresh_store();
  store->save_session(band("band"));
  store->save_member("band", band("band").members[1]);
  store->set_ticking("band", true);
  ASSERT_TRUE(env().settle(*store));

  auto session = boost::json::parse(*shared().get("session:band")).as_object();
  for (const char* key : {"message", "tempo", "position", "isPlaying", "leaderSocketId", "tempoBpm",
                          "members", "createdAt", "lastActiveAt", "settings"}) {
    EXPECT_TRUE(session.contains(key)) << key;
  }
  // BandSync's additions; nothing else (the songs have a key of their own).
  EXPECT_TRUE(session.contains("beatsPerBar"));
  EXPECT_TRUE(session.contains("currentSongId"));
  EXPECT_EQ(session.size(), 12u);
  EXPECT_EQ(session["tempo"], 120);
  EXPECT_EQ(session["position"], 42000);
  const auto& pair = session["members"].as_array()[1].as_array();
  EXPECT_EQ(pair[0], "bass");
  EXPECT_EQ(pair[1].as_object().at("displayName"), "Bass");

  auto member = boost::json::parse(*shared().get("member:bass")).as_object();
  EXPECT_EQ(member["sessionId"], "band");
  EXPECT_EQ(member["socketId"], "bass");
  EXPECT_EQ(member["role"], "follower");

  for (const char* key : {"session:band", "member:bass", "interval:band"}) {
    long long ttl = shared().ttl(key);
    EXPECT_GT(ttl, 1790) << key;
    EXPECT_LE(ttl, 1800) << key;
  }
}

TEST_F(RedisStore, LoadsTheOldServersValuesAndSkipsOthers) {
  auto store = env().fresh_store();
  shared().command({"SET", "session:example-band", old_server_session, "EX", "1800"});
  shared().command({"SET", "session:garbage", "not json"});
  shared().command({"SET", "session:wrong-types", R"({"tempo":"fast"})"});
  shared().command({"HSET", "session:a-hash", "f", "v"});
  shared().command({"SET", "member:mo9bofWGLEl0vh2DAAAB", "{}"});
  shared().command({"SET", "unrelated", "x"});

  auto all = store->load_sessions();
  ASSERT_EQ(all.size(), 1u);
  const auto& s = all[0];
  EXPECT_EQ(s.id, "example-band");
  EXPECT_EQ(s.message, "Keys is leading");
  EXPECT_EQ(s.tempo, 96);
  EXPECT_EQ(s.position_ms, 42000);
  EXPECT_EQ(s.leader_socket_id, "sFi9k8dNrOz4Mq6PAAAA");
  ASSERT_EQ(s.members.size(), 2u);
  EXPECT_EQ(s.members[1].display_name, "Bass");
  EXPECT_EQ(s.created_at, 1795627303502);
}

TEST_F(RedisStore, LoadPagesWithScanNeverKeys) {
  auto store = env().fresh_store();
  shared().command({"CONFIG", "RESETSTAT"});
  for (int i = 0; i < 2500; ++i) store->save_session(band("s" + std::to_string(i)));
  for (int i = 0; i < 300; ++i) store->save_member("s0", member("m" + std::to_string(i)));
  ASSERT_TRUE(env().settle(*store));
  EXPECT_EQ(store->load_sessions().size(), 2500u);
  auto stats = *shared().command({"INFO", "commandstats"});
  EXPECT_EQ(stats.find("cmdstat_keys:"), std::string::npos) << stats;
  EXPECT_NE(stats.find("cmdstat_scan:calls="), std::string::npos) << stats;
  EXPECT_EQ(stats.find("cmdstat_scan:calls=1,"), std::string::npos) << "several pages expected";
}

TEST_F(RedisStore, OneChangeIsOneTransaction) {
  auto store = env().fresh_store();
  shared().command({"CONFIG", "RESETSTAT"});
  // What the domain does for a join: the member, a demoted leader, the session.
  auto r = band("band");
  store->save_member("band", r.members[0]);
  store->save_member("band", r.members[1]);
  store->save_session(r);
  ASSERT_TRUE(env().settle(*store));
  auto stats = *shared().command({"INFO", "commandstats"});
  EXPECT_NE(stats.find("cmdstat_multi:calls=1,"), std::string::npos) << stats;
  EXPECT_NE(stats.find("cmdstat_exec:calls=1,"), std::string::npos) << stats;
  EXPECT_NE(stats.find("cmdstat_set:calls=3,"), std::string::npos) << stats;

  // A lone write needs no transaction.
  store->remove_member("bass");
  ASSERT_TRUE(env().settle(*store));
  stats = *shared().command({"INFO", "commandstats"});
  EXPECT_NE(stats.find("cmdstat_multi:calls=1,"), std::string::npos) << stats;
  EXPECT_FALSE(shared().get("member:bass"));
}

TEST_F(RedisStore, BatchesArePipelined) {
  redis_store_options o;
  o.max_batch_ops = 2;  // one session per MULTI/EXEC
  auto store = store_on(shared().port(), o);
  shared().command({"FLUSHALL"});
  store->start();
  ASSERT_TRUE(env().run_until([&] { return store->connected(); }));
  auto before = store->stats();
  for (int i = 0; i < 200; ++i) {
    auto r = band("p" + std::to_string(i));
    store->save_member(r.id, member("m" + std::to_string(i)));
    store->save_session(r);
  }
  ASSERT_TRUE(env().settle(*store));
  auto after = store->stats();
  uint64_t batches = after.batches_written - before.batches_written;
  uint64_t writes = after.socket_writes - before.socket_writes;
  EXPECT_EQ(batches, 200u);
  // With up to 8 blocks in flight, the first write alone carries 8 of the
  // 200 queued blocks, so pipelining means fewer writes than blocks whatever
  // the timing of the replies (without it: one write per block). How many
  // fewer depends on the machine's load, so it is not asserted.
  EXPECT_LT(writes, batches) << "several MULTI/EXEC blocks per socket write";
  EXPECT_EQ(*shared().command({"DBSIZE"}), "400");
}

TEST_F(RedisStore, AHungServerIsDetectedAndChangesSurviveIt) {
  redis_server server;
  ASSERT_TRUE(server.start());
  auto store = store_on(server.port());
  int resyncs = 0;
  store->set_resync_handler([&] { ++resyncs; });
  store->start();
  store->save_session(band("kept", 100));
  store->save_session(band("gone"));
  store->save_member("kept", member("leaver"));
  store->save_member("kept", member("stayer"));
  ASSERT_TRUE(env().settle(*store));

  server.pause();  // connections stay open, nothing answers
  ASSERT_TRUE(env().run_until([&] { return !store->connected(); }, 3s)) << "PING timeout";
  store->save_session(band("kept", 110));
  store->save_session(band("kept", 120));  // newest wins
  store->remove_member("leaver");
  store->remove_session("gone");
  store->save_session(band("new"));
  env().run_for(300ms);
  EXPECT_FALSE(store->connected());
  // session:kept, member:leaver, session:gone + interval:gone + setlist:gone
  // (remove_session deletes all three), session:new.
  EXPECT_EQ(store->stats().pending_keys, 6u);

  server.resume();
  ASSERT_TRUE(env().settle(*store));
  EXPECT_EQ(stored(server, "kept")->tempo, 120);
  EXPECT_FALSE(server.get("member:leaver"));
  EXPECT_TRUE(server.get("member:stayer"));
  EXPECT_FALSE(server.get("session:gone"));
  EXPECT_TRUE(stored(server, "new"));
  EXPECT_EQ(resyncs, 1);
}

TEST_F(RedisStore, AKilledServerRestartedEmptyIsRefilledByTheResync) {
  redis_server server;
  ASSERT_TRUE(server.start());
  auto store = store_on(server.port());
  // The domain's persist_all, reduced to one session.
  store->set_resync_handler([&] {
    store->save_member("band", member("lead"));
    store->save_session(band("band", 133));
  });
  store->start();
  store->save_session(band("band"));
  ASSERT_TRUE(env().settle(*store));

  server.kill();
  ASSERT_TRUE(env().run_until([&] { return !store->connected(); }, 3s));
  store->remove_session("swept");  // a deletion made during the outage
  env().run_for(200ms);
  ASSERT_TRUE(server.start());
  ASSERT_TRUE(env().settle(*store));
  EXPECT_EQ(stored(server, "band")->tempo, 133);
  EXPECT_TRUE(server.get("member:lead"));
  EXPECT_EQ(store->stats().resyncs, 1u);
}

TEST_F(RedisStore, ReconnectsWithCappedExponentialBackoff) {
  redis_server server;                   // never started: connections are refused
  auto store = store_on(server.port());  // backoff 20 ms doubling, capped at 200 ms
  store->start();
  env().run_for(2000ms);
  // Attempts at ~0, 20, 60, 140, 300, 500, 700, ... 1900 ms: 13. Without the
  // cap (doubling on) there would be 7; without backoff, hundreds.
  auto attempts = store->stats().connect_attempts;
  EXPECT_GE(attempts, 10u);
  EXPECT_LE(attempts, 16u);
  EXPECT_FALSE(store->connected());
  store->save_session(band("buffered"));
  ASSERT_TRUE(server.start());
  ASSERT_TRUE(env().settle(*store));
  EXPECT_TRUE(stored(server, "buffered"));
}

TEST_F(RedisStore, AuthAndSelect) {
  redis_server server({"--requirepass", "s3cret"});
  ASSERT_TRUE(server.start());
  auto opts = redis_test_env::options(server.port());
  opts.connection.endpoint.password = "s3cret";
  opts.connection.endpoint.db = 3;
  auto store = std::make_unique<redis_store>(env().ioc(), opts);
  store->start();
  store->save_session(band("secret-band"));
  ASSERT_TRUE(env().settle(*store));
  EXPECT_TRUE(server.command({"GET", "session:secret-band"}, "s3cret", 3));
  EXPECT_FALSE(server.command({"GET", "session:secret-band"}, "s3cret", 0));
  EXPECT_EQ(store->load_sessions().size(), 1u);

  opts.connection.endpoint.password = "wrong";
  redis_store refused(env().ioc(), opts);
  refused.start();
  env().run_for(300ms);
  EXPECT_FALSE(refused.connected());
  EXPECT_TRUE(refused.load_sessions().empty());
}

TEST_F(RedisStore, TheOutageBufferIsBounded) {
  redis_server server;  // not running
  redis_store_options o;
  o.max_pending_keys = 3;
  auto store = store_on(server.port(), o);
  store->start();
  for (int i = 0; i < 5; ++i) store->save_session(band("b" + std::to_string(i)));
  store->save_session(band("b0", 99));  // an existing key is still updated
  auto s = store->stats();
  EXPECT_EQ(s.pending_keys, 3u);
  EXPECT_EQ(s.ops_dropped, 2u);
}

TEST_F(RedisStore, RefusedWritesAreCountedNotRetried) {
  redis_server server;
  ASSERT_TRUE(server.start());
  auto store = store_on(server.port());
  store->start();
  ASSERT_TRUE(env().run_until([&] { return store->connected(); }));
  server.command({"CONFIG", "SET", "maxmemory-policy", "noeviction"});
  server.command({"CONFIG", "SET", "maxmemory", "1"});
  store->save_member("band", member("x"));
  store->save_session(band("band"));
  ASSERT_TRUE(env().settle(*store)) << "a refused batch must not be retried forever";
  EXPECT_EQ(store->stats().ops_failed, 2u);
  EXPECT_FALSE(server.get("session:band"));
}

TEST_F(RedisStore, SessionWritesRefreshTheExpiryOfItsOtherKeys) {
  redis_store_options o;
  o.refresh_interval = 0ms;  // every write refreshes
  auto store = store_on(shared().port(), o);
  shared().command({"FLUSHALL"});
  store->start();
  auto r = band("band");
  r.is_playing = true;
  store->save_member("band", r.members[0]);
  store->set_ticking("band", true);
  store->save_session(r);
  ASSERT_TRUE(env().settle(*store));
  shared().command({"EXPIRE", "member:lead", "100"});
  shared().command({"EXPIRE", "interval:band", "100"});
  store->save_session(r);  // a clock write-behind write
  ASSERT_TRUE(env().settle(*store));
  EXPECT_GT(shared().ttl("member:lead"), 1790);
  EXPECT_GT(shared().ttl("interval:band"), 1790);

  shared().command({"EXPIRE", "session:band", "100"});
  store->save_member("band", r.members[0]);  // a lastPingAt update
  ASSERT_TRUE(env().settle(*store));
  EXPECT_GT(shared().ttl("session:band"), 1790);
}

TEST_F(RedisStore, TheSetlistKeyExpiresWithItsSessionAndIsWrittenOnlyWhenItChanges) {
  auto store = env().fresh_store();
  auto r = band("band");
  r.is_playing = true;
  std::vector<song_record> songs = {{"s1", "One", 100, 4, {}, std::string(20000, 'x')}};
  store->save_session(r);
  store->save_setlist("band", songs);
  ASSERT_TRUE(env().settle(*store));
  EXPECT_GT(shared().ttl("setlist:band"), 1790);
  EXPECT_LE(shared().ttl("setlist:band"), 1800);
  auto stored = setlist_from_json(boost::json::parse(*shared().get("setlist:band")));
  ASSERT_TRUE(stored);
  EXPECT_EQ(*stored, songs);

  // The write-behind rewrites the session, only refreshes the setlist.
  shared().command({"CONFIG", "RESETSTAT"});
  shared().command({"EXPIRE", "setlist:band", "100"});
  for (int i = 0; i < 3; ++i) {
    r.position_ms += 1000;
    store->save_session(r);
    ASSERT_TRUE(env().settle(*store));
  }
  EXPECT_GT(shared().ttl("setlist:band"), 1790);
  auto stats = *shared().command({"INFO", "commandstats"});
  EXPECT_NE(stats.find("cmdstat_set:calls=3,"), std::string::npos) << stats;
  EXPECT_NE(stats.find("cmdstat_expire:calls=4,"), std::string::npos) << stats;  // 1 by the test

  // A store started later (a restart) loads the songs and keeps refreshing them.
  auto later = store_on(shared().port());
  later->start();
  auto all = later->load_sessions();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].setlist, songs);
  ASSERT_TRUE(env().run_until([&] { return later->connected(); }));
  shared().command({"EXPIRE", "setlist:band", "100"});
  later->save_session(all[0]);
  ASSERT_TRUE(env().settle(*later));
  EXPECT_GT(shared().ttl("setlist:band"), 1790);

  later->save_setlist("band", {});
  ASSERT_TRUE(env().settle(*later));
  EXPECT_FALSE(shared().get("setlist:band"));
}

TEST_F(RedisStore, AnUnreadableSetlistLoadsAsEmpty) {
  auto store = env().fresh_store();
  shared().command({"SET", "session:example-band", old_server_session, "EX", "1800"});
  shared().command({"SET", "setlist:example-band", R"({"songs":[{"id":1}]})", "EX", "1800"});
  shared().command({"SET", "setlist:orphan", R"({"songs":[]})", "EX", "1800"});
  auto all = store->load_sessions();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].id, "example-band");
  EXPECT_TRUE(all[0].setlist.empty());
}

TEST_F(RedisStore, LoadFromAnAbsentServerReturnsNothingQuickly) {
  redis_server server;  // not running
  auto store = store_on(server.port());
  auto started = std::chrono::steady_clock::now();
  EXPECT_TRUE(store->load_sessions().empty());
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
}

}  // namespace
}  // namespace bandsync::store

namespace bandsync::store {
namespace {

// Cluster mode (src/cluster): a session's writes land only while
// `lease:<id>` holds the lease value the fence function gives and the node
// lease it names holds the node's epoch; otherwise none of them does, and
// the refusal is reported.
TEST(RedisStoreFencing, WritesOnlyUnderTheLeasesToken) {
  auto& env = bandsync::testing::redis_test_env::get();
  if (!env.missing().empty()) GTEST_SKIP() << env.missing();
  ASSERT_EQ(env.start_error(), "");
  auto& redis = env.server();
  auto store = env.fresh_store();
  std::vector<std::string> refused;
  store->set_fencing(
      [&](const std::string& id) -> std::optional<redis_store::fence> {
        if (id == "unowned") return std::nullopt;
        return redis_store::fence{"node-a:1@7", "nodelease:node-a", "7"};
      },
      [&](const std::string& id) { refused.push_back(id); });
  redis.command({"SET", "lease:fenced", "node-a:1@7", "PX", "60000"});
  redis.command({"SET", "nodelease:node-a", "7", "PX", "60000"});

  session_record r;
  r.id = "fenced";
  r.tempo = 100;
  store->save_session(r);
  store->save_member("fenced", {"m1", "M", member_role::leader, 1, 1});
  ASSERT_TRUE(env.settle(*store));
  ASSERT_TRUE(redis.get("session:fenced"));
  EXPECT_TRUE(redis.get("member:m1"));
  EXPECT_GT(redis.ttl("session:fenced"), 1790);
  EXPECT_TRUE(refused.empty());

  // The node lease moved on (the node re-joined under another epoch):
  // nothing of the next change is applied, although the session lease is
  // unchanged.
  redis.command({"SET", "nodelease:node-a", "8", "PX", "60000"});
  r.tempo = 130;
  store->save_session(r);
  ASSERT_TRUE(env.settle(*store));
  EXPECT_EQ(boost::json::parse(*redis.get("session:fenced")).at("tempo"), 100);
  EXPECT_EQ(refused, std::vector<std::string>{"fenced"});
  EXPECT_EQ(store->stats().ops_fenced, 1u);
  redis.command({"SET", "nodelease:node-a", "7", "PX", "60000"});

  // The session lease moved on: nothing of the next change is applied.
  redis.command({"SET", "lease:fenced", "node-b:2@9", "PX", "60000"});
  r.tempo = 140;
  store->save_session(r);
  store->remove_member("m1");
  ASSERT_TRUE(env.settle(*store));
  EXPECT_EQ(boost::json::parse(*redis.get("session:fenced")).at("tempo"), 100);
  EXPECT_TRUE(redis.get("member:m1"));
  EXPECT_EQ(refused, (std::vector<std::string>{"fenced", "fenced"}));
  EXPECT_EQ(store->stats().ops_fenced, 3u);

  // No token at all: dropped before Redis.
  session_record u;
  u.id = "unowned";
  store->save_session(u);
  ASSERT_TRUE(env.settle(*store));
  EXPECT_FALSE(redis.get("session:unowned"));
  EXPECT_EQ(store->stats().ops_fenced, 4u);
}

}  // namespace
}  // namespace bandsync::store
