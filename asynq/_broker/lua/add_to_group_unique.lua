-- add_to_group_unique: take the uniqueness lock, then store the task in a group.
-- Effect on Redis equals Go asynq v0.26.0 addToGroupUniqueCmd (internal/rdb/rdb.go).
--
-- KEYS[1] -> asynq:{<qname>}:t:<task_id>
-- KEYS[2] -> asynq:{<qname>}:g:<group>
-- KEYS[3] -> asynq:{<qname>}:groups
-- KEYS[4] -> asynq:{<qname>}:unique:<type>:<md5(payload)>
-- ARGV[1] -> encoded TaskMessage
-- ARGV[2] -> task id
-- ARGV[3] -> now, whole Unix seconds (the ZSET score)
-- ARGV[4] -> group name
-- ARGV[5] -> lock TTL in whole seconds
-- Returns: 1 when added; -1 when the lock is held (duplicate); 0 when the id exists.
--
-- Like Go, no `unique_key` hash field is written here; the lock simply expires by its TTL.
local locked = redis.call("SET", KEYS[4], ARGV[2], "NX", "EX", ARGV[5])
if not locked then
  return -1
end
if redis.call("EXISTS", KEYS[1]) == 1 then
  return 0
end
redis.call("HSET", KEYS[1], "msg", ARGV[1], "state", "aggregating", "group", ARGV[4])
redis.call("ZADD", KEYS[2], ARGV[3], ARGV[2])
redis.call("SADD", KEYS[3], ARGV[4])
return 1
