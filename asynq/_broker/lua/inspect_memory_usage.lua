-- inspect_memory_usage: estimate the bytes one queue takes, by sampling its task hashes.
-- Effect on Redis equals Go asynq v0.26.0 memoryUsageCmd (internal/rdb/inspect.go): none, it
-- only reads. The arithmetic (which ids are sampled, the order of the float sums, truncation
-- of the result) is the same, so both report the same number for the same data.
--
-- KEYS[1] -> asynq:{<qname>}:active
-- KEYS[2] -> asynq:{<qname>}:pending
-- KEYS[3] -> asynq:{<qname>}:scheduled
-- KEYS[4] -> asynq:{<qname>}:retry
-- KEYS[5] -> asynq:{<qname>}:archived
-- KEYS[6] -> asynq:{<qname>}:completed
-- KEYS[7] -> asynq:{<qname>}:groups
-- ARGV[1] -> task key prefix, asynq:{<qname>}:t:
-- ARGV[2] -> task ids sampled per collection (20)
-- ARGV[3] -> groups sampled (5)
-- ARGV[4] -> group key prefix, asynq:{<qname>}:g:
-- Returns: the estimate in bytes, an integer.
local prefix = ARGV[1]
local per_collection = tonumber(ARGV[2])
local groups_sampled = tonumber(ARGV[3])

-- A key that does not exist counts as 0 bytes (Go v0.26.0 fails the whole call when a sampled
-- id has no hash; an estimate is more useful than an error).
local function usage(key)
  return redis.call("MEMORY", "USAGE", key) or 0
end

local total = 0
for i = 1, 6 do
  local ids, length
  if i <= 2 then
    ids = redis.call("LRANGE", KEYS[i], 0, per_collection - 1)
  else
    ids = redis.call("ZRANGE", KEYS[i], 0, per_collection - 1)
  end
  if #ids > 0 then
    local sample = 0
    for _, id in ipairs(ids) do
      sample = sample + usage(prefix .. id)
    end
    if i <= 2 then
      length = redis.call("LLEN", KEYS[i])
    else
      length = redis.call("ZCARD", KEYS[i])
    end
    total = total + (sample / #ids) * length
  end
  total = total + usage(KEYS[i])
end

local groups = redis.call("SMEMBERS", KEYS[7])
if #groups > 0 then
  local grouped, sample, sampled = 0, 0, 0
  for i, name in ipairs(groups) do
    local key = ARGV[4] .. name
    grouped = grouped + redis.call("ZCARD", key)
    if i <= groups_sampled then
      for _, id in ipairs(redis.call("ZRANGE", key, 0, per_collection - 1)) do
        sample = sample + usage(prefix .. id)
        sampled = sampled + 1
      end
    end
  end
  if sampled > 0 then
    total = total + (sample / sampled) * grouped
  end
end
return total
