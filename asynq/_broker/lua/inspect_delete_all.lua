-- inspect_delete_all: delete every task of the pending list, a task ZSET or one group.
-- Effect on Redis equals Go asynq v0.26.0 deleteAllCmd, deleteAllPendingCmd and
-- deleteAllAggregatingCmd (internal/rdb/inspect.go). Like Go, only the ZSET form releases the
-- uniqueness locks the tasks still hold.
--
-- KEYS[1] -> the source: asynq:{<qname>}:pending, :scheduled, :retry, :archived, :completed or
--            :g:<group>
-- KEYS[2] -> asynq:{<qname>}:groups (only when KEYS[1] is a group)
-- ARGV[1] -> task key prefix, asynq:{<qname>}:t:
-- ARGV[2] -> "list" for the pending list, "zset" for a task ZSET, "group" for a group
-- ARGV[3] -> group name (only for "group")
-- Returns: the number of tasks deleted.
local kind = ARGV[2]
local ids
if kind == "list" then
  ids = redis.call("LRANGE", KEYS[1], 0, -1)
else
  ids = redis.call("ZRANGE", KEYS[1], 0, -1)
end
for _, id in ipairs(ids) do
  local key = ARGV[1] .. id
  if kind == "zset" then
    local lock = redis.call("HGET", key, "unique_key")
    if lock and lock ~= "" and redis.call("GET", lock) == id then
      redis.call("DEL", lock)
    end
  end
  redis.call("DEL", key)
end
if kind == "group" then
  redis.call("SREM", KEYS[2], ARGV[3])
end
redis.call("DEL", KEYS[1])
return #ids
