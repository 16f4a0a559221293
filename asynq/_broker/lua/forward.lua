-- forward: move up to 100 due tasks from the scheduled or retry set to pending (or back into
-- their group when the hash names one).
-- Effect on Redis equals Go asynq v0.26.0 forwardCmd (internal/rdb/rdb.go).
--
-- KEYS[1] -> asynq:{<qname>}:scheduled or asynq:{<qname>}:retry
-- KEYS[2] -> asynq:{<qname>}:pending
-- ARGV[1] -> now, Unix seconds
-- ARGV[2] -> task key prefix asynq:{<qname>}:t:
-- ARGV[3] -> now, Unix nanoseconds (stored as pending_since)
-- ARGV[4] -> group key prefix asynq:{<qname>}:g:
-- Returns: the number of tasks moved (the caller repeats until 0).
--
-- Groups reached this way are not added to asynq:{<qname>}:groups, as in Go
-- (docs/compatibility.md#quirk-forward-skips-groups-set). One PUBLISH on the channel named
-- like the pending list wakes idle Python workers; it stores nothing.
local ids = redis.call("ZRANGEBYSCORE", KEYS[1], "-inf", ARGV[1], "LIMIT", 0, 100)
local pushed = 0
for _, id in ipairs(ids) do
  local key = ARGV[2] .. id
  local group = redis.call("HGET", key, "group")
  if group and group ~= "" then
    redis.call("ZADD", ARGV[4] .. group, ARGV[1], id)
    redis.call("ZREM", KEYS[1], id)
    redis.call("HSET", key, "state", "aggregating")
  else
    redis.call("LPUSH", KEYS[2], id)
    redis.call("ZREM", KEYS[1], id)
    redis.call("HSET", key, "state", "pending", "pending_since", ARGV[3])
    pushed = pushed + 1
  end
end
if pushed > 0 then
  redis.call("PUBLISH", KEYS[2], pushed)
end
return #ids
