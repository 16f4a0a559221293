-- inspect_list_messages: one page of the pending or active list, with each task's data.
-- Effect on Redis equals Go asynq v0.26.0 listMessagesCmd (internal/rdb/inspect.go): none, it
-- only reads.
--
-- KEYS[1] -> asynq:{<qname>}:pending or asynq:{<qname>}:active
-- ARGV[1] -> LRANGE start (negative: counted from the oldest end)
-- ARGV[2] -> LRANGE stop
-- ARGV[3] -> task key prefix, asynq:{<qname>}:t:
-- Returns: {id, msg, result, id, msg, result, ...} in list order, newest first; nil for a
--          missing field, an empty msg when the task key is not a hash (damaged data, which
--          the reader reports as unreadable instead of failing the whole page).
local out = {}
for _, id in ipairs(redis.call("LRANGE", KEYS[1], ARGV[1], ARGV[2])) do
  local fields = redis.pcall("HMGET", ARGV[3] .. id, "msg", "result")
  if fields.err then
    fields = {"", false}
  end
  out[#out + 1] = id
  out[#out + 1] = fields[1]
  out[#out + 1] = fields[2]
end
return out
