-- inspect_group_stats: every group of a queue with its number of tasks.
-- Effect on Redis equals Go asynq v0.26.0 groupStatsCmd (internal/rdb/inspect.go): none, it
-- only reads.
--
-- KEYS[1] -> asynq:{<qname>}:groups
-- ARGV[1] -> group key prefix, asynq:{<qname>}:g:
-- Returns: {group, size, group, size, ...} in SMEMBERS order; the size is the error's text
--          when the group's key is not a sorted set (damaged data).
local out = {}
for _, name in ipairs(redis.call("SMEMBERS", KEYS[1])) do
  local size = redis.pcall("ZCARD", ARGV[1] .. name)
  if type(size) == "table" then
    size = "error: " .. size.err
  end
  out[#out + 1] = name
  out[#out + 1] = size
end
return out
