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
--#include leave_active
--#include counters
if not leave_active(KEYS[1], KEYS[2], ARGV[1]) then
  return redis.error_reply("NOT FOUND")
end
if redis.call("DEL", KEYS[3]) == 0 then
  return redis.error_reply("NOT FOUND")
end
count_day(KEYS[4], ARGV[2])
count_totals(ARGV[3], KEYS[5])
-- Another task may have taken the lock after it expired: only our own lock is released.
if KEYS[6] and redis.call("GET", KEYS[6]) == ARGV[1] then
  redis.call("DEL", KEYS[6])
end
return redis.status_reply("OK")
