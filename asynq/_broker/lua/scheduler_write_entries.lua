-- scheduler_write_entries: replace the list of one scheduler's entries and set its expiry.
-- Effect on Redis equals Go asynq v0.26.0 writeSchedulerEntriesCmd (internal/rdb/rdb.go).
--
-- KEYS[1] -> asynq:schedulers:{<schedulerID>}
-- ARGV[1] -> TTL, whole seconds (2 x the heartbeat interval)
-- ARGV[2..n] -> encoded SchedulerEntry messages, soonest next run first
-- Returns: OK.
--
-- Each entry is pushed on the left, so the list reads in the reverse of the argument order
-- (the soonest entry last), which is the order Go's scheduler leaves behind.
redis.call("DEL", KEYS[1])
for i = 2, #ARGV do
  redis.call("LPUSH", KEYS[1], ARGV[i])
end
redis.call("EXPIRE", KEYS[1], ARGV[1])
return redis.status_reply("OK")
