-- progress_end (included where a script says --#include progress_end): tell the watchers of a
-- task that its attempt is over, by appending an entry to its progress stream.
--
-- Only a stream that exists is written: it exists when the handler reported progress or a
-- watcher opened it (asynq/progress.py), so a task nobody follows leaves Redis as Go asynq
-- does. The entry is {"end": <state the task is left in>} and keeps the stream's rules: capped
-- to about the last `kept` entries, expiring `ttl` seconds after this one. Watchers treat it as
-- a signal to read the task's state at once rather than after their check interval.
local function progress_end(stream, state, kept, ttl)
  if redis.call("EXISTS", stream) == 1 then
    redis.call("XADD", stream, "MAXLEN", "~", kept, "*", "end", state)
    redis.call("EXPIRE", stream, ttl)
  end
end
