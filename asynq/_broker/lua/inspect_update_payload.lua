-- inspect_update_payload: replace the message of a scheduled task.
-- Effect on Redis equals Go asynq v0.26.0 updateTaskPayloadCmd (internal/rdb/inspect.go): only
-- the msg field changes (Go also re-writes the other fields with the values they hold).
--
-- KEYS[1] -> asynq:{<qname>}:t:<task_id>
-- ARGV[1] -> the new encoded TaskMessage
-- Returns: 1 when updated; 0 when the task does not exist; -1 when it is not scheduled.
if redis.call("EXISTS", KEYS[1]) == 0 then
  return 0
end
if redis.call("HGET", KEYS[1], "state") ~= "scheduled" then
  return -1
end
redis.call("HSET", KEYS[1], "msg", ARGV[1])
return 1
