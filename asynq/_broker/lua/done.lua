-- done: forget a task that finished successfully, count it as processed and, when a unique key
-- is given, release the task's uniqueness lock if it still holds it.
-- Effect on Redis equals Go asynq v0.26.0 doneCmd, or doneUniqueCmd with KEYS[6]
-- (internal/rdb/rdb.go).
--
-- KEYS[1] -> asynq:{<qname>}:active
-- KEYS[2] -> asynq:{<qname>}:lease
-- KEYS[3] -> asynq:{<qname>}:t:<task_id>
-- KEYS[4] -> asynq:{<qname>}:processed:<yyyy-mm-dd>
-- KEYS[5] -> asynq:{<qname>}:processed
-- KEYS[6] -> (optional) the task's unique key; left out for tasks without one, because
--            Redis Cluster refuses an empty key
-- ARGV[1] -> task id
-- ARGV[2] -> daily counter expiry, Unix seconds (now + 90 days)
-- ARGV[3] -> 9223372036854775807 (the total counter wraps to 1 there)
-- Returns: OK; error NOT FOUND when the task is not active, leased and stored.
if redis.call("LREM", KEYS[1], 0, ARGV[1]) == 0 then
  return redis.error_reply("NOT FOUND")
end
if redis.call("ZREM", KEYS[2], ARGV[1]) == 0 then
  return redis.error_reply("NOT FOUND")
end
if redis.call("DEL", KEYS[3]) == 0 then
  return redis.error_reply("NOT FOUND")
end
if redis.call("INCR", KEYS[4]) == 1 then
  redis.call("EXPIREAT", KEYS[4], ARGV[2])
end
if tonumber(redis.call("GET", KEYS[5])) == tonumber(ARGV[3]) then
  redis.call("SET", KEYS[5], 1)
else
  redis.call("INCR", KEYS[5])
end
-- Another task may have taken the lock after it expired: only our own lock is released.
if KEYS[6] and redis.call("GET", KEYS[6]) == ARGV[1] then
  redis.call("DEL", KEYS[6])
end
return redis.status_reply("OK")
