-- counters (included where a script says --#include counters): Go's processed and failed
-- counters, per UTC day and in total.
--
-- count_day: INCR a daily counter; the increment that creates it sets its EXPIREAT.
local function count_day(key, expire_at)
  if redis.call("INCR", key) == 1 then
    redis.call("EXPIREAT", key, expire_at)
  end
end

-- count_totals: INCR the total counters given (processed, then failed). Go wraps them to 1
-- together, decided by the first alone reaching max (MaxInt64).
local function count_totals(max, ...)
  local wrap = tonumber(redis.call("GET", (...))) == tonumber(max)
  for _, key in ipairs({...}) do
    if wrap then
      redis.call("SET", key, 1)
    else
      redis.call("INCR", key)
    end
  end
end
