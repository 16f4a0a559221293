-- list_lease_expired: the messages of active tasks whose lease ran out at or before a cutoff.
-- Effect on Redis equals Go asynq v0.26.0 listLeaseExpiredCmd (internal/rdb/rdb.go): none,
-- it only reads.
--
-- KEYS[1] -> asynq:{<qname>}:lease
-- ARGV[1] -> cutoff, Unix seconds
-- ARGV[2] -> task key prefix asynq:{<qname>}:t:
-- Returns: the encoded TaskMessages; ids whose hash is gone are skipped.
local found = {}
for _, id in ipairs(redis.call("ZRANGEBYSCORE", KEYS[1], "-inf", ARGV[1])) do
  local msg = redis.call("HGET", ARGV[2] .. id, "msg")
  if msg then
    found[#found + 1] = msg
  end
end
return found
