-- inspect_archive_all: move every task of the pending list, a ZSET (scheduled, retry) or one
-- group to the archive.
-- Effect on Redis equals Go asynq v0.26.0 archiveAllPendingCmd, archiveAllCmd and
-- archiveAllAggregatingCmd (internal/rdb/inspect.go): messages are left as they are, and the
-- archive is trimmed without deleting the trimmed tasks' hashes
-- (docs/compatibility.md#quirk-archive-size-limit).
--
-- KEYS[1] -> the source: asynq:{<qname>}:pending, :scheduled, :retry or :g:<group>
-- KEYS[2] -> asynq:{<qname>}:archived
-- KEYS[3] -> asynq:{<qname>}:groups (only when KEYS[1] is a group)
-- ARGV[1] -> now, whole Unix seconds (the archive score)
-- ARGV[2] -> cutoff, whole Unix seconds (now - 90 days): older archived entries are dropped
-- ARGV[3] -> archive size limit (10000)
-- ARGV[4] -> task key prefix, asynq:{<qname>}:t:
-- ARGV[5] -> "list" when KEYS[1] is the pending list, "zset" otherwise
-- ARGV[6] -> group name (only with KEYS[3])
-- Returns: the number of tasks archived.
local ids
if ARGV[5] == "list" then
  ids = redis.call("LRANGE", KEYS[1], 0, -1)
else
  ids = redis.call("ZRANGE", KEYS[1], 0, -1)
end
for _, id in ipairs(ids) do
  redis.call("ZADD", KEYS[2], ARGV[1], id)
  redis.call("HSET", ARGV[4] .. id, "state", "archived")
end
redis.call("ZREMRANGEBYSCORE", KEYS[2], "-inf", ARGV[2])
redis.call("ZREMRANGEBYRANK", KEYS[2], 0, -tonumber(ARGV[3]))
redis.call("DEL", KEYS[1])
if #KEYS == 3 then
  redis.call("SREM", KEYS[3], ARGV[6])
end
return #ids
