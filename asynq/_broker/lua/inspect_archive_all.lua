-- inspect_archive_all: move every task of the pending list, a ZSET (scheduled, retry) or one
-- group to the archive.
-- Effect on Redis equals Go asynq v0.26.0 archiveAllPendingCmd, archiveAllCmd and
-- archiveAllAggregatingCmd (internal/rdb/inspect.go): messages are left as they are, and the
-- archive is trimmed without deleting the trimmed tasks' hashes
-- (docs/compatibility.md#quirk-archive-size-limit).
--
-- KEYS[1] -> the source: asynq:{<qname>}:pending, :scheduled, :retry or :g:<group>
-- KEYS[2] -> asynq:{<qname>}:archived
-- KEYS[3] -> asynq:{<qname>}:groups (only when KEYS[1] is a group)
-- ARGV[1] -> now, whole Unix seconds (the archive score)
-- ARGV[2] -> cutoff, whole Unix seconds (now - 90 days): older archived entries are dropped
-- ARGV[3] -> archive size limit (10000)
-- ARGV[4] -> task key prefix, asynq:{<qname>}:t:
-- ARGV[5] -> "list" when KEYS[1] is the pending list, "zset" otherwise
-- ARGV[6] -> group name (only with KEYS[3])
-- Returns: the number of tasks archived.
--
-- A task key holding another type than a hash (damaged data) cannot be marked archived, and a
-- failure half-way would leave the tasks before it both in the source and in the archive: such
-- an id is left where it is (for Inspector.delete_task) and the others are archived.
local ids
if ARGV[5] == "list" then
  ids = redis.call("LRANGE", KEYS[1], 0, -1)
else
  ids = redis.call("ZRANGE", KEYS[1], 0, -1)
end
local skipped = {}
local moved = {}
for _, id in ipairs(ids) do
  local key_kind = redis.call("TYPE", ARGV[4] .. id)["ok"]
  if key_kind == "hash" or key_kind == "none" then
    redis.call("ZADD", KEYS[2], ARGV[1], id)
    redis.call("HSET", ARGV[4] .. id, "state", "archived")
    moved[#moved + 1] = id
  else
    skipped[#skipped + 1] = id
  end
end
redis.call("ZREMRANGEBYSCORE", KEYS[2], "-inf", ARGV[2])
redis.call("ZREMRANGEBYRANK", KEYS[2], 0, -tonumber(ARGV[3]))
if #skipped == 0 then
  redis.call("DEL", KEYS[1])
  if #KEYS == 3 then
    redis.call("SREM", KEYS[3], ARGV[6])
  end
elseif ARGV[5] == "list" then
  redis.call("DEL", KEYS[1])
  for _, id in ipairs(skipped) do
    redis.call("RPUSH", KEYS[1], id)
  end
else
  for _, id in ipairs(moved) do
    redis.call("ZREM", KEYS[1], id)
  end
end
return #moved
