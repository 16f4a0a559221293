-- enqueue: store a new task and make it pending.
-- Effect on Redis equals Go asynq v0.26.0 enqueueCmd (internal/rdb/rdb.go).
--
-- KEYS[1] -> asynq:{<qname>}:t:<task_id>
-- KEYS[2] -> asynq:{<qname>}:pending
-- KEYS[3] -> asynq:{<qname>}:handoff (idle Python workers, see include/hand_off.lua)
-- KEYS[4] -> asynq:{<qname>}:paused
-- KEYS[5] -> asynq:{<qname>}:active
-- KEYS[6] -> asynq:{<qname>}:lease
-- ARGV[1] -> encoded TaskMessage
-- ARGV[2] -> task id
-- ARGV[3] -> now, Unix nanoseconds (stored as pending_since)
-- Returns: 1 when enqueued; 0 when a task with this id already exists.
--
-- When an idle Python worker has registered for the queue, the task is handed to it (see
-- include/hand_off.lua) and stored as Go's enqueueCmd followed by its dequeueCmd leave it,
-- sparing the worker that round trip. Otherwise it is stored as enqueueCmd stores it, and
-- the PUBLISH on the channel named like the pending list wakes idle Python workers at once.
-- Neither way stores anything Go does not.
--#include hand_off
if redis.call("EXISTS", KEYS[1]) == 1 then
  return 0
end
if hand_off(KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], ARGV[2], ARGV[1], ARGV[3]) then
  redis.call("HSET", KEYS[1], "msg", ARGV[1], "state", "active")
  return 1
end
redis.call("HSET", KEYS[1], "msg", ARGV[1], "state", "pending", "pending_since", ARGV[3])
redis.call("LPUSH", KEYS[2], ARGV[2])
redis.call("PUBLISH", KEYS[2], ARGV[2])
return 1
