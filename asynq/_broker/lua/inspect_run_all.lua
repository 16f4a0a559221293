-- inspect_run_all: move every task of a ZSET (scheduled, retry, archived, or one group) to the
-- pending list.
-- Effect on Redis equals Go asynq v0.26.0 runAllCmd and, with a group, runAllAggregatingCmd
-- (internal/rdb/inspect.go). Messages are left as they are
-- (docs/compatibility.md#quirk-run-keeps-retry-state) and pending_since is not set
-- (docs/compatibility.md#quirk-pending-since-not-restored).
--
-- KEYS[1] -> the ZSET, e.g. asynq:{<qname>}:retry or asynq:{<qname>}:g:<group>
-- KEYS[2] -> asynq:{<qname>}:pending
-- KEYS[3] -> asynq:{<qname>}:groups (only when KEYS[1] is a group)
-- ARGV[1] -> task key prefix, asynq:{<qname>}:t:
-- ARGV[2] -> group name (only with KEYS[3])
-- Returns: the number of tasks moved.
--
-- The PUBLISH on the channel named like the pending list wakes idle Python workers at once.
local ids = redis.call("ZRANGE", KEYS[1], 0, -1)
for _, id in ipairs(ids) do
  redis.call("LPUSH", KEYS[2], id)
  redis.call("HSET", ARGV[1] .. id, "state", "pending")
end
redis.call("DEL", KEYS[1])
if #KEYS == 3 then
  redis.call("SREM", KEYS[3], ARGV[2])
end
if #ids > 0 then
  redis.call("PUBLISH", KEYS[2], ids[#ids])
end
return #ids
