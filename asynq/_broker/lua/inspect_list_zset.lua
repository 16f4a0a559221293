-- inspect_list_zset: one page of a task ZSET (scheduled, retry, archived, completed or a
-- group), lowest score first, with each task's data.
-- Effect on Redis equals Go asynq v0.26.0 listZSetEntriesCmd (internal/rdb/inspect.go): none,
-- it only reads.
--
-- KEYS[1] -> the ZSET, e.g. asynq:{<qname>}:scheduled or asynq:{<qname>}:g:<group>
-- ARGV[1] -> ZRANGE start
-- ARGV[2] -> ZRANGE stop
-- ARGV[3] -> task key prefix, asynq:{<qname>}:t:
-- Returns: {id, msg, score, result, id, msg, score, result, ...}; nil for a missing field, an
--          empty msg when the task key is not a hash (see inspect_list_messages).
local out = {}
local entries = redis.call("ZRANGE", KEYS[1], ARGV[1], ARGV[2], "WITHSCORES")
for i = 1, #entries, 2 do
  local fields = redis.pcall("HMGET", ARGV[3] .. entries[i], "msg", "result")
  if fields.err then
    fields = {"", false}
  end
  out[#out + 1] = entries[i]
  out[#out + 1] = fields[1]
  out[#out + 1] = entries[i + 1]
  out[#out + 1] = fields[2]
end
return out
