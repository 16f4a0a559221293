"""A live demo: a worker server, a producer, a periodic scheduler and the dashboard, together.

Run it with ``python -m asynq.demo`` (or ``bash scripts/demo`` on a fresh machine). It uses
``$ASYNQ_REDIS_URL`` when set, and otherwise starts a throw-away redis-server of its own.
"""

from asynq.demo._embedded_redis import EmbeddedRedis, find_redis_server

__all__ = ["EmbeddedRedis", "find_redis_server"]
