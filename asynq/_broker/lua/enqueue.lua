-- enqueue: store a new task and make it pending.
-- Effect on Redis equals Go asynq v0.26.0 enqueueCmd (internal/rdb/rdb.go).
--
-- KEYS[1] -> asynq:{<qname>}:t:<task_id>
-- KEYS[2] -> asynq:{<qname>}:pending
-- ARGV[1] -> encoded TaskMessage
-- ARGV[2] -> task id
-- ARGV[3] -> now, Unix nanoseconds (stored as pending_since)
-- Returns: 1 when enqueued; 0 when a task with this id already exists.
--
-- The PUBLISH on the channel named like the pending list wakes idle Python workers at once.
-- It stores nothing, so the keys written stay exactly Go's.
if redis.call("EXISTS", KEYS[1]) == 1 then
  return 0
end
redis.call("HSET", KEYS[1], "msg", ARGV[1], "state", "pending", "pending_since", ARGV[3])
redis.call("LPUSH", KEYS[2], ARGV[2])
redis.call("PUBLISH", KEYS[2], ARGV[2])
return 1
