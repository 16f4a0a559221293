-- mark_as_complete_unique: like mark_as_complete, and release the task's uniqueness lock if it
-- still holds it.
-- Effect on Redis equals Go asynq v0.26.0 markAsCompleteUniqueCmd (internal/rdb/rdb.go).
--
-- KEYS[1] -> asynq:{<qname>}:active
-- KEYS[2] -> asynq:{<qname>}:lease
-- KEYS[3] -> asynq:{<qname>}:completed
-- KEYS[4] -> asynq:{<qname>}:t:<task_id>
-- KEYS[5] -> asynq:{<qname>}:processed:<yyyy-mm-dd>
-- KEYS[6] -> asynq:{<qname>}:processed
-- KEYS[7] -> the task's unique key
-- ARGV[1] -> task id
-- ARGV[2] -> daily counter expiry, Unix seconds (now + 90 days)
-- ARGV[3] -> completed ZSET score: now + retention, Unix seconds
-- ARGV[4] -> encoded TaskMessage with completed_at = now
-- ARGV[5] -> 9223372036854775807 (the total counter wraps to 1 there)
-- Returns: OK; error NOT FOUND when the task is not active and leased; error INTERNAL when it
-- is already in the completed set.
if redis.call("LREM", KEYS[1], 0, ARGV[1]) == 0 then
  return redis.error_reply("NOT FOUND")
end
if redis.call("ZREM", KEYS[2], ARGV[1]) == 0 then
  return redis.error_reply("NOT FOUND")
end
if redis.call("ZADD", KEYS[3], ARGV[3], ARGV[1]) ~= 1 then
  return redis.error_reply("INTERNAL")
end
redis.call("HSET", KEYS[4], "msg", ARGV[4], "state", "completed")
if redis.call("INCR", KEYS[5]) == 1 then
  redis.call("EXPIREAT", KEYS[5], ARGV[2])
end
if tonumber(redis.call("GET", KEYS[6])) == tonumber(ARGV[5]) then
  redis.call("SET", KEYS[6], 1)
else
  redis.call("INCR", KEYS[6])
end
if redis.call("GET", KEYS[7]) == ARGV[1] then
  redis.call("DEL", KEYS[7])
end
return redis.status_reply("OK")
