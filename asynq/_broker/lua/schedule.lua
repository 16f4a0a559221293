-- schedule: store a new task to be processed at a later time.
-- Effect on Redis equals Go asynq v0.26.0 scheduleCmd (internal/rdb/rdb.go).
--
-- KEYS[1] -> asynq:{<qname>}:t:<task_id>
-- KEYS[2] -> asynq:{<qname>}:scheduled
-- ARGV[1] -> encoded TaskMessage
-- ARGV[2] -> process-at time, whole Unix seconds (the ZSET score)
-- ARGV[3] -> task id
-- Returns: 1 when scheduled; 0 when a task with this id already exists.
--
-- Like Go, no `group` field is written even when the message names a group, so the task is
-- forwarded to pending later rather than aggregated.
if redis.call("EXISTS", KEYS[1]) == 1 then
  return 0
end
redis.call("HSET", KEYS[1], "msg", ARGV[1], "state", "scheduled")
redis.call("ZADD", KEYS[2], ARGV[2], ARGV[3])
return 1
