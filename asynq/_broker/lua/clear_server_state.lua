-- clear_server_state: delete one server's info and workers.
-- Effect on Redis equals Go asynq v0.26.0 clearServerStateCmd (internal/rdb/rdb.go).
--
-- KEYS[1] -> asynq:servers:{<host>:<pid>:<server_id>}
-- KEYS[2] -> asynq:workers:{<host>:<pid>:<server_id>}
-- Returns: OK.
redis.call("DEL", KEYS[1], KEYS[2])
return redis.status_reply("OK")
