"""Producer benchmarks: ``Client.enqueue`` / ``AsyncClient.enqueue`` / ``enqueue_many`` against
Go asynq v0.26.0's ``Client.EnqueueContext`` (``tests/go/cmd/bench_enqueue``), same Redis, same
task (type ``bench:enqueue``, 64-byte payload, queue ``bench``).

Each measurement uses a fresh client and starts with one untimed enqueue, which registers the
queue in ``asynq:queues`` and loads the script, as a long-running producer would have done; the
Go program does the same. Timings are the best of ``env.rounds`` rounds. Command counts come
from a separate small run (see :mod:`benchmarks.core`).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable

import asynq
from benchmarks.core import (
    GO,
    PYTHON,
    Env,
    Row,
    benchmark,
    best_of,
    best_of_async,
    throughput_rows,
    timed,
    timed_async,
)

TYPE = "bench:enqueue"
PAYLOAD = b"x" * 64
QUEUE = "bench"
SEQUENTIAL_TASKS = 20_000
BULK_TASKS = 50_000
CONCURRENCY = 8
#: Coroutines of the busy-web-app scenario (one AsyncClient, many concurrent requests).
MANY_COROUTINES = 64
#: Tasks of the (untimed) run whose sent commands are counted with MONITOR.
COUNTED_TASKS = 200

SyncWork = Callable[[asynq.Client, int], None]
AsyncWork = Callable[[asynq.AsyncClient, int], Awaitable[None]]


def _task() -> asynq.Task:
    return asynq.Task(TYPE, PAYLOAD)


def _python_sync(env: Env, name: str, n: int, work: SyncWork) -> list[Row]:
    """Time ``work(client, n)`` on a fresh Client, and count what it sends."""
    with env.sent_counter() as sent, asynq.Client(env.redis_url) as client:
        client.enqueue(_task(), queue=QUEUE)
        work(client, COUNTED_TASKS)
    with env.command_counter() as cmds, asynq.Client(env.redis_url) as client:
        client.enqueue(_task(), queue=QUEUE)
        seconds = best_of(env.rounds, lambda: timed(lambda: work(client, n)))
    per_sent, per_cmd = sent.calls / (COUNTED_TASKS + 1), cmds.calls / (env.rounds * n + 1)
    return throughput_rows(name, PYTHON, n, seconds, per_cmd, per_sent)


async def _python_async(env: Env, name: str, n: int, work: AsyncWork) -> list[Row]:
    """:func:`_python_sync` for the AsyncClient."""
    with env.sent_counter() as sent:
        async with asynq.AsyncClient(env.redis_url) as client:
            await client.enqueue(_task(), queue=QUEUE)
            await work(client, COUNTED_TASKS)
    with env.command_counter() as cmds:
        async with asynq.AsyncClient(env.redis_url) as client:
            await client.enqueue(_task(), queue=QUEUE)
            seconds = await best_of_async(env.rounds, lambda: timed_async(work(client, n)))
    per_sent, per_cmd = sent.calls / (COUNTED_TASKS + 1), cmds.calls / (env.rounds * n + 1)
    return throughput_rows(name, PYTHON, n, seconds, per_cmd, per_sent)


def _go(env: Env, name: str, n: int, goroutines: int) -> list[Row]:
    """Go's client doing the same ``n`` enqueues from ``goroutines`` goroutines."""
    if env.go_bin is None:
        return []

    def run(count: int, rounds: int) -> float:
        out = env.run_go_json(
            "bench_enqueue",
            *("-redis", env.redis_addr, "-n", str(count), "-rounds", str(rounds)),
            *("-goroutines", str(goroutines), "-payload", str(len(PAYLOAD))),
            *("-type", TYPE, "-queue", QUEUE),
        )
        return float(out["seconds"])

    with env.sent_counter() as sent:
        run(max(COUNTED_TASKS, goroutines), 1)
    with env.command_counter() as cmds:
        seconds = run(n, env.rounds)
    per_sent = sent.calls / (max(COUNTED_TASKS, goroutines) + 1)
    return throughput_rows(name, GO, n, seconds, cmds.calls / (env.rounds * n + 1), per_sent)


def _sequential(client: asynq.Client, n: int) -> None:
    task = _task()
    for _ in range(n):
        client.enqueue(task, queue=QUEUE)


async def _sequential_async(client: asynq.AsyncClient, n: int) -> None:
    task = _task()
    for _ in range(n):
        await client.enqueue(task, queue=QUEUE)


@benchmark("enqueue sequential (Client)", group="enqueue")
def sequential_sync(env: Env) -> list[Row]:
    """One thread, one ``Client``, ``enqueue`` in a loop; Go: one goroutine."""
    name, n = "enqueue sequential (Client)", env.count(SEQUENTIAL_TASKS)
    return _python_sync(env, name, n, _sequential) + _go(env, name, n, 1)


@benchmark("enqueue sequential (AsyncClient)", group="enqueue")
async def sequential_async(env: Env) -> list[Row]:
    """One coroutine, one ``AsyncClient``, ``await enqueue`` in a loop; Go: one goroutine."""
    name, n = "enqueue sequential (AsyncClient)", env.count(SEQUENTIAL_TASKS)
    return await _python_async(env, name, n, _sequential_async) + _go(env, name, n, 1)


def _bulk(env: Env, batch: int) -> list[Row]:
    tasks = [_task() for _ in range(batch)]

    def work(client: asynq.Client, n: int) -> None:
        for start in range(0, n, batch):
            client.enqueue_many(tasks[: n - start], queue=QUEUE)

    n = max(1, env.count(BULK_TASKS) // batch) * batch
    return _python_sync(env, f"enqueue_many batch={batch} (Client)", n, work)


@benchmark("enqueue_many batch=100 (Client)", group="enqueue")
def bulk_100(env: Env) -> list[Row]:
    """``enqueue_many`` of 100 tasks per call (one pipelined round trip each)."""
    return _bulk(env, 100)


@benchmark("enqueue_many batch=1000 (Client)", group="enqueue")
def bulk_1000(env: Env) -> list[Row]:
    """``enqueue_many`` of 1000 tasks per call."""
    return _bulk(env, 1000)


async def _concurrent_async(env: Env, coroutines: int) -> list[Row]:
    """``coroutines`` coroutines sharing one ``AsyncClient``; Go: as many goroutines."""
    name = f"enqueue {coroutines} concurrent (AsyncClient)"
    n = env.count(SEQUENTIAL_TASKS) // coroutines * coroutines

    async def work(client: asynq.AsyncClient, count: int) -> None:
        shares = [count // coroutines + (i < count % coroutines) for i in range(coroutines)]
        await asyncio.gather(*(_sequential_async(client, share) for share in shares))

    return await _python_async(env, name, n, work) + _go(env, name, n, coroutines)


@benchmark(f"enqueue {CONCURRENCY} concurrent (AsyncClient)", group="enqueue")
async def concurrent_async(env: Env) -> list[Row]:
    """``CONCURRENCY`` coroutines sharing one ``AsyncClient``; Go: as many goroutines."""
    return await _concurrent_async(env, CONCURRENCY)


@benchmark(f"enqueue {MANY_COROUTINES} concurrent (AsyncClient)", group="enqueue")
async def many_concurrent_async(env: Env) -> list[Row]:
    """``MANY_COROUTINES`` coroutines sharing one ``AsyncClient`` (a busy FastAPI app)."""
    return await _concurrent_async(env, MANY_COROUTINES)


@benchmark(f"enqueue {CONCURRENCY} threads (Client)", group="enqueue")
def concurrent_threads(env: Env) -> list[Row]:
    """``CONCURRENCY`` threads sharing one ``Client``; Go: as many goroutines."""
    name = f"enqueue {CONCURRENCY} threads (Client)"
    n = env.count(SEQUENTIAL_TASKS) // CONCURRENCY * CONCURRENCY

    def work(client: asynq.Client, count: int) -> None:
        errors: list[BaseException] = []

        def share(k: int) -> None:
            try:
                _sequential(client, k)
            except BaseException as exc:
                errors.append(exc)

        shares = [count // CONCURRENCY + (i < count % CONCURRENCY) for i in range(CONCURRENCY)]
        threads = [threading.Thread(target=share, args=(k,)) for k in shares]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise errors[0]

    return _python_sync(env, name, n, work) + _go(env, name, n, CONCURRENCY)
