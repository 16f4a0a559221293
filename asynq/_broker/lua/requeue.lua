-- requeue: give an unfinished active task back to its queue, to be taken next.
-- Effect on Redis equals Go asynq v0.26.0 requeueCmd (internal/rdb/rdb.go).
--
-- KEYS[1] -> asynq:{<qname>}:active
-- KEYS[2] -> asynq:{<qname>}:lease
-- KEYS[3] -> asynq:{<qname>}:pending
-- KEYS[4] -> asynq:{<qname>}:t:<task_id>
-- ARGV[1] -> task id
-- Returns: OK; error NOT FOUND when the task is not active and leased.
--
-- RPUSH puts the id at the end consumers pop from. pending_since is not restored, as in Go
-- (docs/compatibility.md#quirk-pending-since-not-restored). The PUBLISH on the channel named
-- like the pending list wakes idle Python workers; it stores nothing.
--#include leave_active
if not leave_active(KEYS[1], KEYS[2], ARGV[1]) then
  return redis.error_reply("NOT FOUND")
end
redis.call("RPUSH", KEYS[3], ARGV[1])
redis.call("HSET", KEYS[4], "state", "pending")
redis.call("PUBLISH", KEYS[3], ARGV[1])
return redis.status_reply("OK")
