-- list_lease_expired: the active tasks whose lease ran out at or before a cutoff.
-- Effect on Redis equals Go asynq v0.26.0 listLeaseExpiredCmd (internal/rdb/rdb.go): none,
-- it only reads.
--
-- KEYS[1] -> asynq:{<qname>}:lease
-- ARGV[1] -> cutoff, Unix seconds
-- ARGV[2] -> task key prefix asynq:{<qname>}:t:
-- Returns: for each such task three values, as lua/dequeue.lua does: its id, its encoded
-- TaskMessage (nil when there is none) and the type of its task key. Go skips the ids whose
-- hash has no msg; they are returned here so that the caller can archive or release them
-- instead of finding them again on every pass.
local found = {}
for _, id in ipairs(redis.call("ZRANGEBYSCORE", KEYS[1], "-inf", ARGV[1])) do
  local key = ARGV[2] .. id
  local key_kind = redis.call("TYPE", key)["ok"]
  local msg = false
  if key_kind == "hash" then
    msg = redis.call("HGET", key, "msg")
  end
  found[#found + 1] = id
  found[#found + 1] = msg
  found[#found + 1] = key_kind
end
return found
