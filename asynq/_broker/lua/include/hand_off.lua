-- hand_off (included where a script says --#include hand_off): offer a new task straight to
-- an idle Python worker instead of leaving it for that worker to dequeue.
--
-- An idle worker registers in the queue's handoff ZSET asynq:{<qname>}:handoff (member: its
-- channel, score: Unix ms at which the registration lapses) when its dequeue leaves it with a
-- free slot. Each registration stands for one task and is used up by one offer. The offer is
-- the task's message, published on the worker's channel; PUBLISH counts the receivers, so a
-- worker whose connection is gone (crashed, restarted) is passed over. Offers are made only
-- while the queue is not paused and has no pending task, so a handed-off task never overtakes
-- an older one.
--
-- The keys come from the including script's KEYS (built by asynq/_base/keys.py
-- hand_off_keys), the times from the enqueue's Unix-nanosecond clock reading.
--
-- Returns true when a worker received the message; the id is then on the active list and
-- leased for 30 s, and the caller stores the hash as Go's dequeueCmd leaves it (state
-- active, no pending_since). Returns false, having changed nothing but registrations, when
-- the task is to be stored pending.
local function hand_off(pending, handoff, paused, active, lease, id, msg, now_ns)
  if redis.call("EXISTS", handoff) == 0 or redis.call("EXISTS", paused) == 1
      or redis.call("LLEN", pending) > 0 then
    return false
  end
  local now = tonumber(now_ns)
  redis.call("ZREMRANGEBYSCORE", handoff, "-inf", math.floor(now / 1e6))
  while true do
    local channel = redis.call("ZRANGE", handoff, 0, 0)[1]
    if not channel then
      return false
    end
    redis.call("ZREM", handoff, channel)
    if redis.call("PUBLISH", channel, msg) > 0 then
      redis.call("LPUSH", active, id)
      redis.call("ZADD", lease, math.floor(now / 1e9) + 30, id)
      return true
    end
  end
end
