-- inspect_current_stats: the sizes and counters of one queue, for Inspector.get_queue_info.
-- Effect on Redis equals Go asynq v0.26.0 currentStatsCmd (internal/rdb/inspect.go): none, it
-- only reads.
--
-- KEYS[1] -> asynq:{<qname>}:pending
-- KEYS[2] -> asynq:{<qname>}:active
-- KEYS[3] -> asynq:{<qname>}:scheduled
-- KEYS[4] -> asynq:{<qname>}:retry
-- KEYS[5] -> asynq:{<qname>}:archived
-- KEYS[6] -> asynq:{<qname>}:completed
-- KEYS[7] -> asynq:{<qname>}:processed:<yyyy-mm-dd> (today, UTC)
-- KEYS[8] -> asynq:{<qname>}:failed:<yyyy-mm-dd> (today, UTC)
-- KEYS[9] -> asynq:{<qname>}:processed
-- KEYS[10] -> asynq:{<qname>}:failed
-- KEYS[11] -> asynq:{<qname>}:paused
-- KEYS[12] -> asynq:{<qname>}:groups
-- ARGV[1] -> task key prefix, asynq:{<qname>}:t:
-- ARGV[2] -> group key prefix, asynq:{<qname>}:g:
-- Returns: {pending, active, scheduled, retry, archived, completed,
--           processed today, failed today, processed total, failed total (nil when unset),
--           paused (1 or 0), pending_since of the oldest pending task (nil when unset),
--           number of groups, number of tasks in all groups}
--          A value whose key holds the wrong type (damaged data) comes back as the error's
--          text instead of failing the whole call: the reader marks that one value unreadable.
-- redis.call, except that an error reply is returned as its text (a string), not raised.
local function read(...)
  local reply = redis.pcall(...)
  if type(reply) == "table" and reply.err then
    return "error: " .. reply.err
  end
  return reply
end

local pending = read("LLEN", KEYS[1])
local out = {pending, read("LLEN", KEYS[2])}
for i = 3, 6 do
  out[#out + 1] = read("ZCARD", KEYS[i])
end
for i = 7, 10 do
  out[#out + 1] = read("GET", KEYS[i])
end
out[#out + 1] = redis.call("EXISTS", KEYS[11])
-- Producers push on the left, so the right end holds the task that has waited longest.
local oldest_since = false
if type(pending) == "number" and pending > 0 then
  local oldest = redis.call("LINDEX", KEYS[1], -1)
  oldest_since = read("HGET", ARGV[1] .. oldest, "pending_since")
end
out[#out + 1] = oldest_since
local groups = read("SMEMBERS", KEYS[12])
if type(groups) == "string" then
  out[#out + 1] = groups
  out[#out + 1] = groups
  return out
end
local grouped = 0
for _, name in ipairs(groups) do
  local size = read("ZCARD", ARGV[2] .. name)
  if type(size) == "string" then
    grouped = size
    break
  end
  grouped = grouped + size
end
out[#out + 1] = #groups
out[#out + 1] = grouped
return out
