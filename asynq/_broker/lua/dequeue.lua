-- dequeue: move up to N pending tasks of one queue to active and lease them.
-- Effect on Redis equals Go asynq v0.26.0 dequeueCmd (internal/rdb/rdb.go), applied once per
-- task: Go runs that script for one task per call; this one repeats it up to ARGV[3] times in
-- one round trip so a worker with several free slots fills them at once.
--
-- KEYS[1] -> asynq:{<qname>}:pending
-- KEYS[2] -> asynq:{<qname>}:paused
-- KEYS[3] -> asynq:{<qname>}:active
-- KEYS[4] -> asynq:{<qname>}:lease
-- ARGV[1] -> lease expiry, Unix seconds (now + 30 s)
-- ARGV[2] -> task key prefix asynq:{<qname>}:t:
-- ARGV[3] -> most tasks to take (>= 1)
-- Returns: the encoded TaskMessages taken, oldest first (empty when the queue is paused or
-- empty). An id whose hash has vanished is moved and leased like any other, as Go does, but
-- has no message to return.
if redis.call("EXISTS", KEYS[2]) == 1 then
  return {}
end
local taken = {}
for _ = 1, tonumber(ARGV[3]) do
  local id = redis.call("RPOPLPUSH", KEYS[1], KEYS[3])
  if not id then
    break
  end
  local key = ARGV[2] .. id
  redis.call("HSET", key, "state", "active")
  redis.call("HDEL", key, "pending_since")
  redis.call("ZADD", KEYS[4], ARGV[1], id)
  local msg = redis.call("HGET", key, "msg")
  if msg then
    taken[#taken + 1] = msg
  end
end
return taken
