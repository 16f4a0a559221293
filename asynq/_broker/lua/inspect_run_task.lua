-- inspect_run_task: move one scheduled, retry, archived, completed or aggregating task to the
-- pending list.
-- Effect on Redis equals Go asynq v0.26.0 runTaskCmd (internal/rdb/inspect.go). Like Go, the
-- message is left as it is (retried and error_msg are kept,
-- docs/compatibility.md#quirk-run-keeps-retry-state) and pending_since is not set
-- (docs/compatibility.md#quirk-pending-since-not-restored).
--
-- KEYS[1] -> asynq:{<qname>}:t:<task_id>
-- KEYS[2] -> asynq:{<qname>}:pending
-- KEYS[3] -> asynq:{<qname>}:groups
-- ARGV[1] -> task id
-- ARGV[2] -> queue key prefix, asynq:{<qname>}:
-- ARGV[3] -> group key prefix, asynq:{<qname>}:g:
-- Returns: 1 when moved; 0 when the task does not exist; -1 when it is active; -2 when it is
--          pending already; an error reply when its collection does not hold it.
--
-- The PUBLISH on the channel named like the pending list wakes idle Python workers at once.
--#include take_out
if redis.call("EXISTS", KEYS[1]) == 0 then
  return 0
end
local fields = redis.call("HMGET", KEYS[1], "state", "group")
local state, group = fields[1], fields[2]
if state == "active" then
  return -1
end
if state == "pending" then
  return -2
end
-- Pending tasks were turned away above, so the pending count is never used.
local failed = take_out(ARGV[1], state, group, ARGV[2], ARGV[3], KEYS[3], 0)
if failed then
  return failed
end
redis.call("LPUSH", KEYS[2], ARGV[1])
redis.call("HSET", KEYS[1], "state", "pending")
redis.call("PUBLISH", KEYS[2], ARGV[1])
return 1
