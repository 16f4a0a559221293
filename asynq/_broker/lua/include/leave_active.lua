-- leave_active (included where a script says --#include leave_active): take a task off the
-- active list and out of the lease set, as every Go script that ends an attempt first does.
--
-- Returns false, having stopped at the first step that found nothing (so the lease set is
-- untouched when the list did not hold the id), when the task was not both active and leased.
local function leave_active(active, lease, id)
  return redis.call("LREM", active, 0, id) ~= 0 and redis.call("ZREM", lease, id) ~= 0
end
