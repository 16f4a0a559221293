-- inspect_remove_queue: delete a queue's task collections and the tasks they hold.
-- Effect on Redis equals Go asynq v0.26.0 removeQueueCmd and removeQueueForceCmd
-- (internal/rdb/inspect.go). Like Go, completed and aggregating tasks, aggregation sets, the
-- paused flag, the counters and the uniqueness locks are left behind
-- (docs/compatibility.md#quirk-remove-queue-leftovers); the caller then removes the name from
-- asynq:queues.
--
-- KEYS[1] -> asynq:{<qname>}:pending
-- KEYS[2] -> asynq:{<qname>}:active
-- KEYS[3] -> asynq:{<qname>}:scheduled
-- KEYS[4] -> asynq:{<qname>}:retry
-- KEYS[5] -> asynq:{<qname>}:archived
-- KEYS[6] -> asynq:{<qname>}:lease
-- ARGV[1] -> task key prefix, asynq:{<qname>}:t:
-- ARGV[2] -> "1" to remove a queue that still holds tasks (force), "0" otherwise
-- Returns: 1 when removed; -1 when not forced and any of the five collections holds a task;
--          -2 when forced and a task is active.
-- Beyond Go: a collection key of the wrong type (damaged data) counts as holding tasks, and a
-- forced removal deletes it, so an operator can always remove a queue the tools list.
local function kind(i)
  return i <= 2 and "list" or "zset"
end

local function damaged(i)
  local t = redis.call("TYPE", KEYS[i]).ok
  return t ~= "none" and t ~= kind(i)
end

local function members(i)
  if damaged(i) then
    return {}
  end
  if i <= 2 then
    return redis.call("LRANGE", KEYS[i], 0, -1)
  end
  return redis.call("ZRANGE", KEYS[i], 0, -1)
end

if ARGV[2] == "1" then
  if not damaged(2) and redis.call("LLEN", KEYS[2]) > 0 then
    return -2
  end
else
  for i = 1, 5 do
    if damaged(i) or redis.call(i <= 2 and "LLEN" or "ZCARD", KEYS[i]) > 0 then
      return -1
    end
  end
end
for i = 1, 5 do
  for _, id in ipairs(members(i)) do
    redis.call("DEL", ARGV[1] .. id)
  end
end
for i = 1, 6 do
  redis.call("DEL", KEYS[i])
end
return 1
