-- archive: move a failed active task to the archive, trimming the archive by age and size.
-- Effect on Redis equals Go asynq v0.26.0 archiveCmd (internal/rdb/rdb.go), plus the end
-- entry of a progress stream that exists (progress_end).
--
-- KEYS[1] -> asynq:{<qname>}:t:<task_id>
-- KEYS[2] -> asynq:{<qname>}:active
-- KEYS[3] -> asynq:{<qname>}:lease
-- KEYS[4] -> asynq:{<qname>}:archived
-- KEYS[5] -> asynq:{<qname>}:processed:<yyyy-mm-dd>
-- KEYS[6] -> asynq:{<qname>}:failed:<yyyy-mm-dd>
-- KEYS[7] -> asynq:{<qname>}:processed
-- KEYS[8] -> asynq:{<qname>}:failed
-- KEYS[9] -> task key prefix asynq:{<qname>}:t:
-- KEYS[10] -> asynq:{<qname>}:progress:<task_id> (written only when it exists)
-- ARGV[1] -> task id
-- ARGV[2] -> encoded TaskMessage (error_msg and last_failed_at updated)
-- ARGV[3] -> now, Unix seconds (the archive score)
-- ARGV[4] -> age cutoff, Unix seconds (90 days ago)
-- ARGV[5] -> size limit (10000)
-- ARGV[6] -> daily counter expiry, Unix seconds (now + 90 days)
-- ARGV[7] -> 9223372036854775807 (the total counters wrap to 1 there)
-- ARGV[8] -> progress entries kept (MAXLEN ~)
-- ARGV[9] -> progress stream TTL, seconds
-- Returns: OK; error NOT FOUND when the task is not active and leased.
--
-- ZRANGEBYSCORE selects the same ids as Go's ZRANGE ... BYSCORE and also runs on Redis < 6.2.
-- The size trim removes ranks 0..-limit, which leaves limit - 1 tasks, as in Go
-- (docs/compatibility.md#quirk-archive-size-limit).
--#include leave_active
--#include counters
--#include progress_end
if not leave_active(KEYS[2], KEYS[3], ARGV[1]) then
  return redis.error_reply("NOT FOUND")
end
redis.call("ZADD", KEYS[4], ARGV[3], ARGV[1])
local function drop(ids)
  if #ids == 0 then
    return
  end
  for _, id in ipairs(ids) do
    redis.call("DEL", KEYS[9] .. id)
  end
  redis.call("ZREM", KEYS[4], unpack(ids))
end
drop(redis.call("ZRANGEBYSCORE", KEYS[4], "-inf", ARGV[4]))
drop(redis.call("ZRANGE", KEYS[4], 0, -tonumber(ARGV[5])))
redis.call("HSET", KEYS[1], "msg", ARGV[2], "state", "archived")
count_day(KEYS[5], ARGV[6])
count_day(KEYS[6], ARGV[6])
count_totals(ARGV[7], KEYS[7], KEYS[8])
progress_end(KEYS[10], "archived", ARGV[8], ARGV[9])
return redis.status_reply("OK")
