-- schedule_unique: take the uniqueness lock, then store the task as scheduled.
-- Effect on Redis equals Go asynq v0.26.0 scheduleUniqueCmd (internal/rdb/rdb.go).
--
-- KEYS[1] -> asynq:{<qname>}:unique:<type>:<md5(payload)>
-- KEYS[2] -> asynq:{<qname>}:t:<task_id>
-- KEYS[3] -> asynq:{<qname>}:scheduled
-- ARGV[1] -> task id (the lock's value)
-- ARGV[2] -> lock TTL in whole seconds: until process-at plus the unique TTL
-- ARGV[3] -> process-at time, whole Unix seconds (the ZSET score)
-- ARGV[4] -> encoded TaskMessage
-- Returns: 1 when scheduled; -1 when the lock is held (duplicate); 0 when the id exists.
local locked = redis.call("SET", KEYS[1], ARGV[1], "NX", "EX", ARGV[2])
if not locked then
  return -1
end
if redis.call("EXISTS", KEYS[2]) == 1 then
  return 0
end
redis.call("HSET", KEYS[2], "msg", ARGV[4], "state", "scheduled", "unique_key", KEYS[1])
redis.call("ZADD", KEYS[3], ARGV[3], ARGV[1])
return 1
