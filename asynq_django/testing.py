"""Helpers for the tests of a Django project that uses asynq.

:func:`run_burst_worker` runs the project's worker (Django tasks, ``@asynq.task`` functions,
the ``HANDLER``) in the test process until its queues are drained, then returns::

    @pytest.mark.django_db(transaction=True)
    def test_signup_sends_the_welcome_mail(client):
        client.post("/signup", {...})
        run_burst_worker()
        assert Mail.objects.count() == 1

The worker's threads open their own database connections, so the test needs a database they
share with it: a server database, or SQLite in a file (``DATABASES["default"]["TEST"]["NAME"]``)
and ``django_db(transaction=True)`` / ``TransactionTestCase`` so the data is committed.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from asynq import Inspector, QueueNotFoundError, Server
from asynq_django.clients import get_inspector
from asynq_django.conf import get_settings
from asynq_django.worker import DjangoHandler, worker_config

__all__ = ["run_burst_worker"]


def run_burst_worker(
    queues: dict[str, int] | None = None,
    *,
    handler: Any = None,
    timeout: float = 30.0,
    **config: Any,
) -> str:
    """Process tasks in this process until ``queues`` (default: the ``ASYNQ`` ones) hold no
    pending task, no task due for a retry and none running; return the worker id (what
    Django task results list in ``worker_ids``).

    Args:
        queues: Queue weights, as ``ASYNQ["QUEUES"]``.
        handler: The handler of non-Django task types (default: ``ASYNQ["HANDLER"]``'s, else
            ``asynq.default_registry``).
        timeout: Seconds after which an undrained queue raises ``TimeoutError``.
        config: More :class:`asynq.Config` fields (``concurrency``, ``retry_delay_func``...).

    Raises:
        TimeoutError: the queues still had work after ``timeout`` seconds.
    """
    settings = get_settings()
    if handler is None and settings.handler:
        from django.utils.module_loading import import_string

        handler = import_string(settings.handler)
    server = Server(settings.connection(), worker_config(settings, queues=queues, **config))
    names = list(server.config.queues)
    inspector = get_inspector(settings)

    async def run() -> None:
        await server.start(DjangoHandler(settings, handler, worker_id=server.server_id))
        deadline = time.monotonic() + timeout
        try:
            while server.in_flight or not _drained(inspector, names):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"the queues {names} still have work after {timeout}s")
                await asyncio.sleep(0.05)
        finally:
            await server.shutdown()

    asyncio.run(run())
    return server.server_id


def _drained(inspector: Inspector, queues: list[str]) -> bool:
    """Whether ``queues`` hold no pending task and none waiting for a retry (a queue not in
    Redis is empty). Unlike burst mode, a test waits for the retries it provoked."""
    for queue in queues:
        try:
            info = inspector.get_queue_info(queue)
        except QueueNotFoundError:
            continue
        if info.pending or info.retry:
            return False
    return True
