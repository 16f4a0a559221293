-- retry: move a failed active task to the retry set, to run again at a given time.
-- Effect on Redis equals Go asynq v0.26.0 retryCmd (internal/rdb/rdb.go), plus the end
-- entry of a progress stream that exists (progress_end).
--
-- KEYS[1] -> asynq:{<qname>}:t:<task_id>
-- KEYS[2] -> asynq:{<qname>}:active
-- KEYS[3] -> asynq:{<qname>}:lease
-- KEYS[4] -> asynq:{<qname>}:retry
-- KEYS[5] -> asynq:{<qname>}:processed:<yyyy-mm-dd>
-- KEYS[6] -> asynq:{<qname>}:failed:<yyyy-mm-dd>
-- KEYS[7] -> asynq:{<qname>}:processed
-- KEYS[8] -> asynq:{<qname>}:failed
-- KEYS[9] -> asynq:{<qname>}:progress:<task_id> (written only when it exists)
-- ARGV[1] -> task id
-- ARGV[2] -> encoded TaskMessage (retried, error_msg and last_failed_at updated)
-- ARGV[3] -> retry time, Unix seconds
-- ARGV[4] -> daily counter expiry, Unix seconds (now + 90 days)
-- ARGV[5] -> "1" when the error counts as a failure, else "0"
-- ARGV[6] -> 9223372036854775807 (the total counters wrap to 1 there)
-- ARGV[7] -> progress entries kept (MAXLEN ~)
-- ARGV[8] -> progress stream TTL, seconds
-- Returns: OK; error NOT FOUND when the task is not active and leased.
--#include leave_active
--#include counters
--#include progress_end
if not leave_active(KEYS[2], KEYS[3], ARGV[1]) then
  return redis.error_reply("NOT FOUND")
end
redis.call("ZADD", KEYS[4], ARGV[3], ARGV[1])
redis.call("HSET", KEYS[1], "msg", ARGV[2], "state", "retry")
if tonumber(ARGV[5]) == 1 then
  count_day(KEYS[5], ARGV[4])
  count_day(KEYS[6], ARGV[4])
  count_totals(ARGV[6], KEYS[7], KEYS[8])
end
progress_end(KEYS[9], "retry", ARGV[7], ARGV[8])
return redis.status_reply("OK")
