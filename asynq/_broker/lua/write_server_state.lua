-- write_server_state: store one server's ServerInfo and the WorkerInfo of each active task.
-- Effect on Redis equals Go asynq v0.26.0 writeServerStateCmd (internal/rdb/rdb.go).
--
-- KEYS[1] -> asynq:servers:{<host>:<pid>:<server_id>}
-- KEYS[2] -> asynq:workers:{<host>:<pid>:<server_id>}
-- ARGV[1] -> TTL in seconds
-- ARGV[2] -> encoded ServerInfo
-- ARGV[3..] -> pairs of task id, encoded WorkerInfo
-- Returns: OK.
redis.call("SETEX", KEYS[1], ARGV[1], ARGV[2])
redis.call("DEL", KEYS[2])
for i = 3, #ARGV - 1, 2 do
  redis.call("HSET", KEYS[2], ARGV[i], ARGV[i + 1])
end
redis.call("EXPIRE", KEYS[2], ARGV[1])
return redis.status_reply("OK")
