-- read_aggregation_set: the messages of the tasks in one aggregation set.
-- Effect on Redis equals Go asynq v0.26.0 readAggregationSetCmd (internal/rdb/rdb.go): none,
-- it only reads.
--
-- KEYS[1] -> asynq:{<qname>}:g:<group>:<set_id>
-- KEYS[2] -> asynq:{<qname>}:aggregation_sets
-- ARGV[1] -> task key prefix asynq:{<qname>}:t:
-- Returns: {messages, deadline}: the encoded TaskMessages in set order, and the set's deadline
-- (its score in aggregation_sets, Unix seconds; false when missing). Go reads the deadline
-- with a separate ZSCORE; both keys share the queue's hash slot, so one script does both.
local msgs = {}
for _, id in ipairs(redis.call("ZRANGE", KEYS[1], 0, -1)) do
  msgs[#msgs + 1] = redis.call("HGET", ARGV[1] .. id, "msg")
end
return {msgs, redis.call("ZSCORE", KEYS[2], KEYS[1])}
