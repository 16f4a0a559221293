-- mark_as_complete: keep a successful task as completed until its retention runs out and, when a
-- unique key is given, release the task's uniqueness lock if it still holds it.
-- Effect on Redis equals Go asynq v0.26.0 markAsCompleteCmd, or markAsCompleteUniqueCmd with
-- KEYS[8] (internal/rdb/rdb.go), plus the end entry of a progress stream that exists
-- (progress_end).
--
-- KEYS[1] -> asynq:{<qname>}:active
-- KEYS[2] -> asynq:{<qname>}:lease
-- KEYS[3] -> asynq:{<qname>}:completed
-- KEYS[4] -> asynq:{<qname>}:t:<task_id>
-- KEYS[5] -> asynq:{<qname>}:processed:<yyyy-mm-dd>
-- KEYS[6] -> asynq:{<qname>}:processed
-- KEYS[7] -> asynq:{<qname>}:progress:<task_id> (written only when it exists)
-- KEYS[8] -> (optional) the task's unique key; left out for tasks without one, because
--            Redis Cluster refuses an empty key
-- ARGV[1] -> task id
-- ARGV[2] -> daily counter expiry, Unix seconds (now + 90 days)
-- ARGV[3] -> completed ZSET score: now + retention, Unix seconds
-- ARGV[4] -> encoded TaskMessage with completed_at = now
-- ARGV[5] -> 9223372036854775807 (the total counter wraps to 1 there)
-- ARGV[6] -> progress entries kept (MAXLEN ~)
-- ARGV[7] -> progress stream TTL, seconds
-- Returns: OK; error NOT FOUND when the task is not active and leased; error INTERNAL when it
-- is already in the completed set.
--#include leave_active
--#include counters
--#include progress_end
if not leave_active(KEYS[1], KEYS[2], ARGV[1]) then
  return redis.error_reply("NOT FOUND")
end
if redis.call("ZADD", KEYS[3], ARGV[3], ARGV[1]) ~= 1 then
  return redis.error_reply("INTERNAL")
end
redis.call("HSET", KEYS[4], "msg", ARGV[4], "state", "completed")
count_day(KEYS[5], ARGV[2])
count_totals(ARGV[5], KEYS[6])
-- Another task may have taken the lock after it expired: only our own lock is released.
if KEYS[8] and redis.call("GET", KEYS[8]) == ARGV[1] then
  redis.call("DEL", KEYS[8])
end
progress_end(KEYS[7], "completed", ARGV[6], ARGV[7])
return redis.status_reply("OK")
