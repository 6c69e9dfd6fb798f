#pragma once
// The Lua scripts of the cluster (docs/EVENTS.md "Cluster"). Each runs
// atomically in Redis, which is what makes a lease a lease: no other client's
// command runs between its GET and its SET.

#include <string_view>

namespace bandsync::cluster::scripts {

// KEYS[1] `nodelease:<id>`, KEYS[2] `bs:epoch`; ARGV[1] the PX in ms. The
// node (re)joins: a new epoch from INCR, held by its node lease. Returns the
// epoch (a string).
inline constexpr std::string_view node_join = R"lua(
local e = tostring(redis.call('INCR', KEYS[2]))
redis.call('SET', KEYS[1], e, 'PX', ARGV[1])
return e
)lua";

// KEYS[1] `nodelease:<id>`; ARGV[1] our epoch, ARGV[2] the PX. Extends the
// node lease while it still holds our epoch: 1 (renewed) or 0 (lost). One
// call per node and renewal period renews every session it runs.
inline constexpr std::string_view node_renew = R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
)lua";

// KEYS: session lease keys. ARGV[1] this node's id, ARGV[2] its epoch,
// ARGV[3] the fence key's TTL in seconds, ARGV[4] the lease key's TTL in
// seconds. A session lease "<node>:<version>@<epoch>" is live while
// `nodelease:<node>` holds <epoch> (the node lease keys are derived here, so
// this needs one Redis, not a Redis Cluster). For each key: a live lease is
// left as it is; a dead or missing one is taken with a new token
// "<id>:<INCR fence:<session>>@<epoch>" if our own node lease holds our
// epoch. Returns per key { the lease value now (ours, another node's, or ""
// when our node lease is gone), the PTTL of its owner's node lease in ms }:
// a node watching another node's sessions asks again when that would expire.
inline constexpr std::string_view acquire = R"lua(
local out = {}
local live_self = redis.call('GET', 'nodelease:' .. ARGV[1]) == ARGV[2]
for i = 1, #KEYS do
  local cur = redis.call('GET', KEYS[i])
  local pttl = 0
  if cur then
    local tok, ep = string.match(cur, '^(.+)@(%d+)$')
    local owner = tok and string.match(tok, '^(.+):%d+$')
    local nk = owner and ('nodelease:' .. owner)
    if nk and redis.call('GET', nk) == ep then
      pttl = redis.call('PTTL', nk)
    else
      cur = nil
    end
  end
  if not cur then
    if live_self then
      local fk = 'fence:' .. string.sub(KEYS[i], 7)
      local v = redis.call('INCR', fk)
      redis.call('EXPIRE', fk, ARGV[3])
      cur = ARGV[1] .. ':' .. v .. '@' .. ARGV[2]
      redis.call('SET', KEYS[i], cur, 'EX', ARGV[4])
      pttl = redis.call('PTTL', 'nodelease:' .. ARGV[1])
    else
      cur = ''
    end
  end
  out[i] = {cur, pttl}
end
return out
)lua";

// KEYS: node lease keys of other nodes. Returns per key { its value (the
// epoch) or "", its PTTL in ms }: whether the sessions of that node are live.
inline constexpr std::string_view node_probe = R"lua(
local out = {}
for i = 1, #KEYS do
  out[i] = {redis.call('GET', KEYS[i]) or '', redis.call('PTTL', KEYS[i])}
end
return out
)lua";

// KEYS: session lease keys; ARGV[1] the TTL in seconds, ARGV[i+1] the value
// expected in KEYS[i]. Keeps the lease keys of running sessions from
// expiring (a dead node's keys go away after the TTL; their validity never
// depended on it).
inline constexpr std::string_view touch = R"lua(
for i = 1, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[i + 1] then redis.call('EXPIRE', KEYS[i], ARGV[1]) end
end
return 1
)lua";

// KEYS[1] a lease; ARGV[1] our lease value. Deletes the lease if it is still ours.
inline constexpr std::string_view release = R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
)lua";

// KEYS[1] `node:<id>`, KEYS[2] `bs:nodes` (a sorted set: node id scored by
// the Redis time, in ms, at which its heartbeat expires). ARGV[1] the id,
// ARGV[2] the PX, ARGV[3] the node's description (JSON). Returns the live
// node ids (this one included), dropping the expired ones.
inline constexpr std::string_view heartbeat = R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[2])
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
return redis.call('ZRANGE', KEYS[2], 0, -1)
)lua";

}  // namespace bandsync::cluster::scripts
