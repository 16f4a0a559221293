-- inspect_archive_task: move one pending, scheduled, retry, completed or aggregating task to the
-- archive.
-- Effect on Redis equals Go asynq v0.26.0 archiveTaskCmd (internal/rdb/inspect.go): the message
-- is left as it is, and the archive is trimmed like the server's archive does, except that the
-- trimmed tasks' hashes stay behind (docs/compatibility.md#quirk-archive-size-limit).
--
-- KEYS[1] -> asynq:{<qname>}:t:<task_id>
-- KEYS[2] -> asynq:{<qname>}:archived
-- KEYS[3] -> asynq:{<qname>}:groups
-- ARGV[1] -> task id
-- ARGV[2] -> now, whole Unix seconds (the archive score)
-- ARGV[3] -> cutoff, whole Unix seconds (now - 90 days): older archived entries are dropped
-- ARGV[4] -> archive size limit (10000)
-- ARGV[5] -> queue key prefix, asynq:{<qname>}:
-- ARGV[6] -> group key prefix, asynq:{<qname>}:g:
-- Returns: 1 when archived; 0 when the task does not exist; -1 when it is archived already;
--          -2 when it is active; an error reply when its collection does not hold it.
--#include take_out
if redis.call("EXISTS", KEYS[1]) == 0 then
  return 0
end
local fields = redis.call("HMGET", KEYS[1], "state", "group")
local state, group = fields[1], fields[2]
if state == "active" then
  return -2
end
if state == "archived" then
  return -1
end
local failed = take_out(ARGV[1], state, group, ARGV[5], ARGV[6], KEYS[3], 1)
if failed then
  return failed
end
redis.call("ZADD", KEYS[2], ARGV[2], ARGV[1])
redis.call("HSET", KEYS[1], "state", "archived")
redis.call("ZREMRANGEBYSCORE", KEYS[2], "-inf", ARGV[3])
redis.call("ZREMRANGEBYRANK", KEYS[2], 0, -tonumber(ARGV[4]))
return 1
