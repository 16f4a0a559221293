-- delete_expired_completed: delete up to a batch of completed tasks whose retention is over.
-- Effect on Redis equals Go asynq v0.26.0 deleteExpiredCompletedTasksCmd
-- (internal/rdb/rdb.go).
--
-- KEYS[1] -> asynq:{<qname>}:completed
-- ARGV[1] -> now, Unix seconds
-- ARGV[2] -> task key prefix asynq:{<qname>}:t:
-- ARGV[3] -> batch size
-- Returns: the number of tasks deleted (the caller repeats until 0).
local ids = redis.call("ZRANGEBYSCORE", KEYS[1], "-inf", ARGV[1], "LIMIT", 0, tonumber(ARGV[3]))
for _, id in ipairs(ids) do
  redis.call("DEL", ARGV[2] .. id)
  redis.call("ZREM", KEYS[1], id)
end
return #ids
