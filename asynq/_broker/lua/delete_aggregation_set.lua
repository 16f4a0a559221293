-- delete_aggregation_set: delete an aggregated set and the tasks in it.
-- Effect on Redis equals Go asynq v0.26.0 deleteAggregationSetCmd (internal/rdb/rdb.go).
--
-- KEYS[1] -> asynq:{<qname>}:g:<group>:<set_id>
-- KEYS[2] -> asynq:{<qname>}:aggregation_sets
-- ARGV[1] -> task key prefix asynq:{<qname>}:t:
-- Returns: OK.
for _, id in ipairs(redis.call("ZRANGE", KEYS[1], 0, -1)) do
  redis.call("DEL", ARGV[1] .. id)
end
redis.call("DEL", KEYS[1])
redis.call("ZREM", KEYS[2], KEYS[1])
return redis.status_reply("OK")
