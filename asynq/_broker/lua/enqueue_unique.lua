-- enqueue_unique: take the uniqueness lock, then store the task and make it pending.
-- Effect on Redis equals Go asynq v0.26.0 enqueueUniqueCmd (internal/rdb/rdb.go).
--
-- KEYS[1] -> asynq:{<qname>}:unique:<type>:<md5(payload)>
-- KEYS[2] -> asynq:{<qname>}:t:<task_id>
-- KEYS[3] -> asynq:{<qname>}:pending
-- KEYS[4] -> asynq:{<qname>}:handoff (idle Python workers, see include/hand_off.lua)
-- KEYS[5] -> asynq:{<qname>}:paused
-- KEYS[6] -> asynq:{<qname>}:active
-- KEYS[7] -> asynq:{<qname>}:lease
-- ARGV[1] -> task id (the lock's value)
-- ARGV[2] -> lock TTL in whole seconds (>= 1)
-- ARGV[3] -> encoded TaskMessage
-- ARGV[4] -> now, Unix nanoseconds (stored as pending_since)
-- Returns: 1 when enqueued; -1 when the lock is held (duplicate); 0 when the id exists.
--
-- As in Go, a lock taken just before an id conflict is left to expire by its TTL. The
-- handoff to an idle Python worker, or else the wake-up PUBLISH, is enqueue.lua's.
--#include hand_off
local locked = redis.call("SET", KEYS[1], ARGV[1], "NX", "EX", ARGV[2])
if not locked then
  return -1
end
if redis.call("EXISTS", KEYS[2]) == 1 then
  return 0
end
if hand_off(KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], ARGV[1], ARGV[3], ARGV[4]) then
  redis.call("HSET", KEYS[2], "msg", ARGV[3], "state", "active", "unique_key", KEYS[1])
  return 1
end
redis.call("HSET", KEYS[2], "msg", ARGV[3], "state", "pending", "pending_since", ARGV[4],
  "unique_key", KEYS[1])
redis.call("LPUSH", KEYS[3], ARGV[1])
redis.call("PUBLISH", KEYS[3], ARGV[1])
return 1
