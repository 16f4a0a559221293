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
-- Returns: for each task taken, oldest first, three values: its id, its encoded TaskMessage
-- (nil when the hash has no msg) and the type of its task key ("hash", or "none"/"string"...
-- for a damaged one); empty when the queue is paused or empty. A damaged task is moved and
-- leased like any other, as Go does, so that the caller can archive or release it: nothing
-- taken is ever left active without the caller knowing. Go's script would also HSET a missing
-- or foreign task key; this one leaves such a key alone. An active or lease key of the wrong
-- type is an error before anything moves (a failure half-way would strand the tasks taken).
--
-- With KEYS[5], a worker left with a free slot (fewer than ARGV[3] tasks taken) registers as
-- idle so the next enqueue hands it a task directly (include/hand_off.lua); a worker whose
-- slots are now all taken withdraws its registration. Go never reads KEYS[5].
if redis.call("EXISTS", KEYS[2]) == 1 then
  return {}
end
local function kind(key)
  return redis.call("TYPE", key)["ok"]
end
local function holds(key, wanted)
  local found = kind(key)
  return found == wanted or found == "none"
end
if not (holds(KEYS[3], "list") and holds(KEYS[4], "zset") and (not KEYS[5] or holds(KEYS[5], "zset"))) then
  return redis.error_reply("WRONGTYPE an active, lease or handoff key of the queue has the wrong type")
end
local taken = {}
local count = 0
for _ = 1, tonumber(ARGV[3]) do
  local id = redis.call("RPOPLPUSH", KEYS[1], KEYS[3])
  if not id then
    break
  end
  count = count + 1
  local key = ARGV[2] .. id
  redis.call("ZADD", KEYS[4], ARGV[1], id)
  local key_kind = kind(key)
  local msg = false
  if key_kind == "hash" then
    redis.call("HSET", key, "state", "active")
    redis.call("HDEL", key, "pending_since")
    msg = redis.call("HGET", key, "msg")
  end
  taken[#taken + 1] = id
  taken[#taken + 1] = msg
  taken[#taken + 1] = key_kind
end
if KEYS[5] then
  if count < tonumber(ARGV[3]) then
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
