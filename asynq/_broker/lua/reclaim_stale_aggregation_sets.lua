-- reclaim_stale_aggregation_sets: return the tasks of aggregation sets past their deadline to
-- their groups (the server that took them died before finishing).
-- Effect on Redis equals Go asynq v0.26.0 reclaimStateAggregationSetsCmd
-- (internal/rdb/rdb.go).
--
-- KEYS[1] -> asynq:{<qname>}:aggregation_sets
-- ARGV[1] -> now, Unix seconds
-- Returns: OK.
--
-- A set key is its group key plus ":<set_id>", so the group key is everything before the last
-- colon. The group is not added back to asynq:{<qname>}:groups, as in Go
-- (docs/compatibility.md#quirk-forward-skips-groups-set).
for _, set_key in ipairs(redis.call("ZRANGEBYSCORE", KEYS[1], "-inf", ARGV[1])) do
  local group_key = string.match(set_key, "^(.*):[^:]*$")
  local entries = redis.call("ZRANGE", set_key, 0, -1, "WITHSCORES")
  for i = 1, #entries - 1, 2 do
    redis.call("ZADD", group_key, tonumber(entries[i + 1]), entries[i])
  end
  redis.call("DEL", set_key)
end
redis.call("ZREMRANGEBYSCORE", KEYS[1], "-inf", ARGV[1])
return redis.status_reply("OK")
