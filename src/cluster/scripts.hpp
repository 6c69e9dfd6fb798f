#pragma once
// The Lua scripts of the cluster (docs/EVENTS.md "Cluster"). Each runs
// atomically in Redis, which is what makes a lease a lease: no other client's
// command runs between its GET and its SET.

#include <string_view>

namespace bandsync::cluster::scripts {

// KEYS: lease keys. ARGV[1] this node's id, ARGV[2] the PX in ms, ARGV[3] the
// fence key's TTL in seconds. For each key: a free lease is taken with a new
// token "<node>:<INCR fence:<id>>"; a lease already ours is extended. Returns
// per key { token it now holds (ours or another node's), its PTTL in ms }:
// a node polling another node's lease asks again when it would expire.
inline constexpr std::string_view acquire = R"lua(
local out = {}
local mine = ARGV[1] .. ':'
for i = 1, #KEYS do
  local cur = redis.call('GET', KEYS[i])
  if not cur then
    local fk = 'fence:' .. string.sub(KEYS[i], 7)
    local v = redis.call('INCR', fk)
    redis.call('EXPIRE', fk, ARGV[3])
    cur = mine .. v
    redis.call('SET', KEYS[i], cur, 'PX', ARGV[2])
  elseif string.sub(cur, 1, #mine) == mine then
    redis.call('PEXPIRE', KEYS[i], ARGV[2])
  end
  out[i] = {cur, redis.call('PTTL', KEYS[i])}
end
return out
)lua";

// KEYS: lease keys; ARGV[1] the PX, ARGV[i+1] the token expected in KEYS[i].
// Extends each lease still holding its token; returns 1 (renewed) or 0 (lost)
// per key.
inline constexpr std::string_view renew = R"lua(
local out = {}
for i = 1, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[i + 1] then
    redis.call('PEXPIRE', KEYS[i], ARGV[1])
    out[i] = 1
  else
    out[i] = 0
  end
end
return out
)lua";

// KEYS[1] a lease; ARGV[1] our token. Deletes the lease if it is still ours.
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
