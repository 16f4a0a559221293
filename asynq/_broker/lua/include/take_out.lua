-- take_out (included where a script says --#include take_out): remove a task's id from the
-- collection its state names: the pending list, the queue's sorted set of that name, or, for
-- an aggregating task, its group, which is then dropped from the groups set once empty.
--
-- pending_count is LREM's count for the pending list (Go's scripts differ: 1 or 0).
-- Returns nil when removed, else the error reply Go's Inspector scripts give.
local function take_out(id, state, group, queue_prefix, group_prefix, groups, pending_count)
  local removed, from
  if state == "aggregating" then
    from = group_prefix .. group
    removed = redis.call("ZREM", from, id)
  else
    -- Each state other than aggregating names its collection: asynq:{<qname>}:<state>.
    from = queue_prefix .. state
    if state == "pending" then
      removed = redis.call("LREM", from, pending_count, id)
    else
      removed = redis.call("ZREM", from, id)
    end
  end
  if removed == 0 then
    return redis.error_reply("task " .. id .. " is not in " .. from)
  end
  if state == "aggregating" and redis.call("ZCARD", from) == 0 then
    redis.call("SREM", groups, group)
  end
end
