-- done: forget a task that finished successfully, count it as processed and, when a unique key
-- is given, release the task's uniqueness lock if it still holds it.
-- Effect on Redis equals Go asynq v0.26.0 doneCmd, or doneUniqueCmd with KEYS[7]
-- (internal/rdb/rdb.go), plus the end entry of a progress stream that exists (progress_end).
--
-- KEYS[1] -> asynq:{<qname>}:active
-- KEYS[2] -> asynq:{<qname>}:lease
-- KEYS[3] -> asynq:{<qname>}:t:<task_id>
-- KEYS[4] -> asynq:{<qname>}:processed:<yyyy-mm-dd>
-- KEYS[5] -> asynq:{<qname>}:processed
-- KEYS[6] -> asynq:{<qname>}:progress:<task_id> (written only when it exists)
-- KEYS[7] -> (optional) the task's unique key; left out for tasks without one, because
--            Redis Cluster refuses an empty key
-- ARGV[1] -> task id
-- ARGV[2] -> daily counter expiry, Unix seconds (now + 90 days)
-- ARGV[3] -> 9223372036854775807 (the total counter wraps to 1 there)
-- ARGV[4] -> progress entries kept (MAXLEN ~)
-- ARGV[5] -> progress stream TTL, seconds
-- Returns: OK; error NOT FOUND when the task is not active, leased and stored.
--#include leave_active
--#include counters
--#include progress_end
if not leave_active(KEYS[1], KEYS[2], ARGV[1]) then
  return redis.error_reply("NOT FOUND")
end
if redis.call("DEL", KEYS[3]) == 0 then
  return redis.error_reply("NOT FOUND")
end
count_day(KEYS[4], ARGV[2])
count_totals(ARGV[3], KEYS[5])
-- Another task may have taken the lock after it expired: only our own lock is released.
if KEYS[7] and redis.call("GET", KEYS[7]) == ARGV[1] then
  redis.call("DEL", KEYS[7])
end
progress_end(KEYS[6], "gone", ARGV[4], ARGV[5])
return redis.status_reply("OK")
