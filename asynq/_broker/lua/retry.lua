-- retry: move a failed active task to the retry set, to run again at a given time.
-- Effect on Redis equals Go asynq v0.26.0 retryCmd (internal/rdb/rdb.go).
--
-- KEYS[1] -> asynq:{<qname>}:t:<task_id>
-- KEYS[2] -> asynq:{<qname>}:active
-- KEYS[3] -> asynq:{<qname>}:lease
-- KEYS[4] -> asynq:{<qname>}:retry
-- KEYS[5] -> asynq:{<qname>}:processed:<yyyy-mm-dd>
-- KEYS[6] -> asynq:{<qname>}:failed:<yyyy-mm-dd>
-- KEYS[7] -> asynq:{<qname>}:processed
-- KEYS[8] -> asynq:{<qname>}:failed
-- ARGV[1] -> task id
-- ARGV[2] -> encoded TaskMessage (retried, error_msg and last_failed_at updated)
-- ARGV[3] -> retry time, Unix seconds
-- ARGV[4] -> daily counter expiry, Unix seconds (now + 90 days)
-- ARGV[5] -> "1" when the error counts as a failure, else "0"
-- ARGV[6] -> 9223372036854775807 (the total counters wrap to 1 there)
-- Returns: OK; error NOT FOUND when the task is not active and leased.
if redis.call("LREM", KEYS[2], 0, ARGV[1]) == 0 then
  return redis.error_reply("NOT FOUND")
end
if redis.call("ZREM", KEYS[3], ARGV[1]) == 0 then
  return redis.error_reply("NOT FOUND")
end
redis.call("ZADD", KEYS[4], ARGV[3], ARGV[1])
redis.call("HSET", KEYS[1], "msg", ARGV[2], "state", "retry")
if tonumber(ARGV[5]) == 1 then
  if redis.call("INCR", KEYS[5]) == 1 then
    redis.call("EXPIREAT", KEYS[5], ARGV[4])
  end
  if redis.call("INCR", KEYS[6]) == 1 then
    redis.call("EXPIREAT", KEYS[6], ARGV[4])
  end
  -- Both totals wrap together, decided by the processed total alone.
  if tonumber(redis.call("GET", KEYS[7])) == tonumber(ARGV[6]) then
    redis.call("SET", KEYS[7], 1)
    redis.call("SET", KEYS[8], 1)
  else
    redis.call("INCR", KEYS[7])
    redis.call("INCR", KEYS[8])
  end
end
return redis.status_reply("OK")
