-- inspect_get_task: read one task and when it will next be processed.
-- Effect on Redis equals Go asynq v0.26.0 getTaskInfoCmd (internal/rdb/inspect.go): none, it
-- only reads.
--
-- KEYS[1] -> asynq:{<qname>}:t:<task_id>
-- ARGV[1] -> task id
-- ARGV[2] -> now, whole Unix seconds (the next process time of a pending task)
-- ARGV[3] -> queue key prefix, asynq:{<qname>}:
-- Returns: {msg, state, next process time in Unix seconds (0 for none), result (nil if
--           unset)}; the error reply "NOT FOUND" when the task does not exist.
if redis.call("EXISTS", KEYS[1]) == 0 then
  return redis.error_reply("NOT FOUND")
end
local fields = redis.call("HMGET", KEYS[1], "msg", "state", "result")
local state = fields[2]
local next_at = 0
if state == "scheduled" or state == "retry" then
  -- the collection is named after the state; its score is the process time
  next_at = redis.call("ZSCORE", ARGV[3] .. state, ARGV[1])
elseif state == "pending" then
  next_at = ARGV[2]
end
return {fields[1], state, next_at, fields[3]}
