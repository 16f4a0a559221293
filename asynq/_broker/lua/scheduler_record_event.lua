-- scheduler_record_event: add one enqueue event to an entry's history, keeping the newest ones.
-- Effect on Redis equals Go asynq v0.26.0 recordSchedulerEnqueueEventCmd (internal/rdb/rdb.go).
--
-- KEYS[1] -> asynq:scheduler_history:<entryID>
-- ARGV[1] -> enqueue time, whole Unix seconds (the score)
-- ARGV[2] -> encoded SchedulerEnqueueEvent (the member)
-- ARGV[3] -> how many events to keep at most (1000)
-- Returns: OK.
--
-- Trimming first to the newest ARGV[3]-1 members and then adding makes the cap exact.
local keep = tonumber(ARGV[3])
redis.call("ZREMRANGEBYRANK", KEYS[1], 0, -keep)
redis.call("ZADD", KEYS[1], ARGV[1], ARGV[2])
return redis.status_reply("OK")
