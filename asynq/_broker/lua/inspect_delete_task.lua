-- inspect_delete_task: delete one task that is not active.
-- Effect on Redis equals Go asynq v0.26.0 deleteTaskCmd (internal/rdb/inspect.go): the task
-- leaves its collection, its uniqueness lock is released if it still holds it, and its hash is
-- deleted.
--
-- KEYS[1] -> asynq:{<qname>}:t:<task_id>
-- KEYS[2] -> asynq:{<qname>}:groups
-- KEYS[3] -> asynq:{<qname>}:pending
-- KEYS[4..7] -> asynq:{<qname>}:scheduled, :retry, :archived, :completed
-- ARGV[1] -> task id
-- ARGV[2] -> queue key prefix, asynq:{<qname>}:
-- ARGV[3] -> group key prefix, asynq:{<qname>}:g:
-- Returns: 1 when deleted; 0 when the task does not exist; -1 when it is active; an error
--          reply when its collection does not hold it.
-- Beyond Go: a task whose key is not a hash, or whose state is unknown (damaged data), is
-- taken out of every collection that could hold it and deleted, so an operator can remove
-- any task the tools list.
--#include take_out
if redis.call("EXISTS", KEYS[1]) == 0 then
  return 0
end
local known = {pending = true, active = true, scheduled = true, retry = true, archived = true,
  completed = true, aggregating = true}
local fields = {}
if redis.call("TYPE", KEYS[1]).ok == "hash" then
  fields = redis.call("HMGET", KEYS[1], "state", "group", "unique_key")
end
local state, group, lock = fields[1], fields[2], fields[3]
if state == "active" then
  return -1
end
if not known[state] then
  redis.pcall("LREM", KEYS[3], 0, ARGV[1])
  for i = 4, 7 do
    redis.pcall("ZREM", KEYS[i], ARGV[1])
  end
  return redis.call("DEL", KEYS[1])
end
local failed = take_out(ARGV[1], state, group, ARGV[2], ARGV[3], KEYS[2], 0)
if failed then
  return failed
end
-- The lock may have expired and been taken by another task since: release only our own.
if lock and lock ~= "" and redis.call("GET", lock) == ARGV[1] then
  redis.call("DEL", lock)
end
return redis.call("DEL", KEYS[1])
