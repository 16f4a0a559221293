-- inspect_live_keys: the member keys of a heartbeat ZSET that have not expired, pruning the
-- expired ones.
-- Effect on Redis equals Go asynq v0.26.0 listServerKeysCmd, listWorkersCmd and
-- listSchedulerKeysCmd (internal/rdb/inspect.go), three identical scripts.
--
-- KEYS[1] -> asynq:servers, asynq:workers or asynq:schedulers
-- ARGV[1] -> now, whole Unix seconds
-- Returns: the members scored now or later (their expiry), lowest score first.
local now = tonumber(ARGV[1])
local live = redis.call("ZRANGEBYSCORE", KEYS[1], now, "+inf")
redis.call("ZREMRANGEBYSCORE", KEYS[1], "-inf", now - 1)
return live
