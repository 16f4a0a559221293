-- aggregation_check: if a group is ready, move its tasks into a new aggregation set.
-- Effect on Redis equals Go asynq v0.26.0 aggregationCheckCmd (internal/rdb/rdb.go).
--
-- KEYS[1] -> asynq:{<qname>}:g:<group>
-- KEYS[2] -> asynq:{<qname>}:g:<group>:<set_id> (the new aggregation set)
-- KEYS[3] -> asynq:{<qname>}:aggregation_sets
-- KEYS[4] -> asynq:{<qname>}:groups
-- ARGV[1] -> max group size (0: no limit)
-- ARGV[2] -> max delay, whole seconds (0: no limit)
-- ARGV[3] -> grace period, whole seconds
-- ARGV[4] -> set deadline, Unix seconds (now + 2 min)
-- ARGV[5] -> check time, Unix seconds
-- ARGV[6] -> group name
-- Returns: 1 when a set was created, else 0.
--
-- A group is ready when it holds max size tasks, when its oldest task waited max delay, or
-- when its newest task waited the grace period. At most max size of the oldest tasks move.
local size = redis.call("ZCARD", KEYS[1])
if size == 0 then
  return 0
end
local max_size = tonumber(ARGV[1])
local max_delay = tonumber(ARGV[2])
local now = tonumber(ARGV[5])

local function move(drop_group)
  local entries = redis.call("ZRANGE", KEYS[1], 0, max_size - 1, "WITHSCORES")
  for i = 1, #entries - 1, 2 do
    redis.call("ZADD", KEYS[2], tonumber(entries[i + 1]), entries[i])
  end
  redis.call("ZREMRANGEBYRANK", KEYS[1], 0, max_size - 1)
  redis.call("ZADD", KEYS[3], ARGV[4], KEYS[2])
  if drop_group then
    redis.call("SREM", KEYS[4], ARGV[6])
  end
  return 1
end

if max_size ~= 0 and size >= max_size then
  return move(size == max_size)
end
local emptied = size <= max_size or max_size == 0
if max_delay ~= 0 then
  local oldest = redis.call("ZRANGE", KEYS[1], 0, 0, "WITHSCORES")
  if tonumber(oldest[2]) <= now - max_delay then
    return move(emptied)
  end
end
local newest = redis.call("ZREVRANGE", KEYS[1], 0, 0, "WITHSCORES")
if tonumber(newest[2]) <= now - tonumber(ARGV[3]) then
  return move(emptied)
end
return 0
