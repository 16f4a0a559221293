-- dequeue: move up to N pending tasks of one queue to active and lease them.
-- Effect on Redis equals Go asynq v0.26.0 dequeueCmd (internal/rdb/rdb.go), applied once per
-- task: Go runs that script for one task per call; this one repeats it up to ARGV[3] times in
-- one round trip so a worker with several free slots fills them at once.
--
-- KEYS[1] -> asynq:{<qname>}:pending
-- KEYS[2] -> asynq:{<qname>}:paused
-- KEYS[3] -> asynq:{<qname>}:active
-- KEYS[4] -> asynq:{<qname>}:lease
-- KEYS[5] -> asynq:{<qname>}:handoff (optional: the worker takes handed-off tasks)
-- ARGV[1] -> lease expiry, Unix seconds (now + 30 s)
-- ARGV[2] -> task key prefix asynq:{<qname>}:t:
-- ARGV[3] -> most tasks to take (>= 1)
-- ARGV[4] -> the worker's handoff channel (with KEYS[5])
-- ARGV[5] -> when its registration lapses, Unix milliseconds (with KEYS[5])
-- ARGV[6] -> time to live of KEYS[5], milliseconds (with KEYS[5])
-- Returns: the encoded TaskMessages taken, oldest first (empty when the queue is paused or
-- empty). An id whose hash has vanished is moved and leased like any other, as Go does, but
-- has no message to return.
--
-- With KEYS[5], a worker left with a free slot (fewer than ARGV[3] tasks taken) registers as
-- idle so the next enqueue hands it a task directly (include/hand_off.lua); a worker whose
-- slots are now all taken withdraws its registration. Go never reads KEYS[5].
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
if KEYS[5] then
  if #taken < tonumber(ARGV[3]) then
    redis.call("ZADD", KEYS[5], ARGV[5], ARGV[4])
    -- Only ever lengthened: workers with a longer check interval share the key.
    if redis.call("PTTL", KEYS[5]) < tonumber(ARGV[6]) then
      redis.call("PEXPIRE", KEYS[5], ARGV[6])
    end
  else
    redis.call("ZREM", KEYS[5], ARGV[4])
  end
end
return taken
