"""cancel_and_wait: a background task ends even when a cancellation gets lost on its way."""

from __future__ import annotations

import asyncio

import pytest

from asynq._base.stopping import cancel_and_wait

#: Bounds a wait that hangs forever without the fix (it is no measure of speed).
HANG = 10.0


async def _at_once() -> str:
    return "done"


async def test_a_cancellation_lost_in_wait_for_is_repeated() -> None:
    # The loop redis-py runs on every command it sends: asyncio.wait_for on an operation that
    # finishes at once. On Python 3.11 a cancellation landing after that operation finished
    # but before wait_for resumed is dropped, and the loop goes round again.
    rounds: list[str] = []

    async def loop() -> None:
        while True:
            rounds.append(await asyncio.wait_for(_at_once(), 5))
            await asyncio.sleep(0.05)

    task = asyncio.create_task(loop())
    await asyncio.sleep(0)  # the loop starts: wait_for schedules the operation
    await asyncio.sleep(0)  # the operation finishes; wait_for has not resumed yet
    async with asyncio.timeout(HANG):
        await cancel_and_wait(task)
    assert task.cancelled()
    assert rounds  # the cancellation came in the middle of a round


async def test_a_task_that_swallows_one_cancellation_is_cancelled_again() -> None:
    swallowed = 0

    async def loop() -> None:
        nonlocal swallowed
        while True:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                if swallowed:
                    raise
                swallowed += 1

    task = asyncio.create_task(loop())
    await asyncio.sleep(0)
    async with asyncio.timeout(HANG):
        await cancel_and_wait(task)
    assert task.cancelled() and swallowed == 1


async def test_a_task_that_ended_on_its_own_keeps_its_outcome() -> None:
    async def fails() -> None:
        raise RuntimeError("boom")

    task = asyncio.create_task(fails())
    await asyncio.wait({task})
    await cancel_and_wait(task)
    assert not task.cancelled()
    with pytest.raises(RuntimeError, match="boom"):
        task.result()


async def test_the_callers_own_cancellation_goes_through() -> None:
    let_go = asyncio.Event()

    async def stubborn() -> None:
        while not let_go.is_set():
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                pass

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)
    waiter = asyncio.create_task(cancel_and_wait(task))
    await asyncio.sleep(0)
    waiter.cancel()
    async with asyncio.timeout(HANG):
        with pytest.raises(asyncio.CancelledError):
            await waiter
    assert not task.done()  # nobody waits for it now: the caller was cancelled
    let_go.set()
    task.cancel()
    await asyncio.wait({task})
