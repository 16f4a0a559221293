-- inspect_server_query: INFO, CLUSTER INFO or CLUSTER SLOTS, with the reply as the server sends
-- it.
-- No Go script: Go asynq v0.26.0 sends these commands directly (RDB.RedisInfo,
-- RDB.RedisClusterInfo and RDB.ClusterNodes, internal/rdb/inspect.go). They run as a script
-- because redis-py parses a plain INFO reply into typed values (the Inspector reports each value
-- as Redis prints it, like Go), and its asyncio cluster client cannot route CLUSTER INFO or
-- CLUSTER SLOTS; a script without keys runs on any one node. Nothing is written.
--
-- ARGV[1] -> "info", "cluster-info" or "cluster-slots"
-- Returns: the command's reply.
if ARGV[1] == "cluster-info" then
  return redis.call("CLUSTER", "INFO")
end
if ARGV[1] == "cluster-slots" then
  return redis.call("CLUSTER", "SLOTS")
end
return redis.call("INFO")
