"""``fn.using(database=...)``: the database a task function's deferred enqueue waits for,
handed to a commit hook that takes a ``database`` keyword; refused by one that takes none.
The hooks here hold callbacks in a list (the "transaction") and the test commits by calling
them; the enqueues go to a real Redis."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import redis

import asynq
from asynq._functions.on_commit import CommitHook

registry = asynq.TaskRegistry()


@registry.task("user:welcome")
def welcome(user_id: int) -> None: ...


NO_DATABASE = "(none given)"


class RecordingHook:
    """A commit hook of a framework with several databases: holds each callback with the
    database it waits for, until :meth:`commit`."""

    def __init__(self) -> None:
        self.held: list[tuple[Callable[[], object], str]] = []

    def __call__(self, callback: Callable[[], object], *, database: str = NO_DATABASE) -> None:
        self.held.append((callback, database))

    def databases(self) -> list[str]:
        return [database for _, database in self.held]

    def commit(self, database: str) -> None:
        for callback, waits_for in self.held:
            if waits_for == database:
                callback()
        self.held = [(c, d) for c, d in self.held if d != database]


@pytest.fixture
def hook(redis_url: str) -> Iterator[RecordingHook]:
    asynq.configure(redis_url)
    recording = RecordingHook()
    try:
        with asynq.use_commit_hook(recording):
            yield recording
    finally:
        asynq.configure()


def pending(r: redis.Redis, queue: str = "default") -> list[bytes]:
    ids = r.lrange(f"asynq:{{{queue}}}:pending", 0, -1)
    return [asynq.Inspector(r).get_task_info(queue, i.decode()).payload for i in reversed(ids)]


def test_the_hook_is_told_the_handles_database(hook: RecordingHook, r: redis.Redis) -> None:
    other = welcome.using(database="other")
    info = other.enqueue_on_commit(1)
    welcome.enqueue_on_commit(2)  # no database: the hook is called with the callback alone
    assert hook.databases() == ["other", NO_DATABASE]
    assert pending(r) == [] and info.state == asynq.TaskState.PENDING

    hook.commit("other")
    assert pending(r) == [b'{"user_id":1}']
    assert asynq.Inspector(r).get_task_info("default", info.id).payload == b'{"user_id":1}'
    hook.commit(NO_DATABASE)
    assert pending(r) == [b'{"user_id":1}', b'{"user_id":2}']


def test_the_database_survives_chained_using_and_never_reaches_redis(
    hook: RecordingHook, r: redis.Redis
) -> None:
    handle = welcome.using(database="other").using(queue="low", max_retry=3)
    assert "database" not in handle.options and handle.options["queue"] == "low"
    info = handle.enqueue_on_commit(1)
    assert hook.databases() == ["other"]
    hook.commit("other")
    sent = asynq.Inspector(r).get_task_info("low", info.id)
    assert (sent.payload, sent.max_retry) == (b'{"user_id":1}', 3)
    assert b"other" not in b"".join(r.hvals(f"asynq:{{low}}:t:{info.id}"))

    assert handle.using(database="third").enqueue_on_commit(2) is not None
    assert hook.databases() == ["third"]  # a later using() names another one


def test_deferred_plain_enqueues_wait_for_the_handles_database(
    redis_url: str, r: redis.Redis
) -> None:
    asynq.configure(redis_url)
    recording = RecordingHook()
    try:
        with asynq.use_commit_hook(recording, defer_enqueue=True):
            welcome.using(database="other").enqueue(1)
            welcome.using(database="other").enqueue_in(3600, 2)
            welcome.enqueue(3)
            assert recording.databases() == ["other", "other", NO_DATABASE]
            assert pending(r) == []
            recording.commit("other")
    finally:
        asynq.configure()
    assert pending(r) == [b'{"user_id":1}'] and r.zcard("asynq:{default}:scheduled") == 1


def test_a_hook_without_a_database_keyword_refuses_a_database_at_once(
    redis_url: str, r: redis.Redis
) -> None:
    asynq.configure(redis_url)
    held: list[Callable[[], object]] = []
    try:
        with asynq.use_commit_hook(lambda callback: held.append(callback)):
            with pytest.raises(asynq.ValidationError, match="commit hook takes no database"):
                welcome.using(database="other").enqueue_on_commit(1)
            assert held == []  # nothing waits for a transaction it would not be part of
            welcome.enqueue_on_commit(2)  # without a database such a hook works as ever
        with (
            asynq.use_commit_hook(held.append, defer_enqueue=True),
            pytest.raises(asynq.ValidationError, match="commit hook takes no database"),
        ):
            welcome.using(database="other").enqueue(3)
    finally:
        asynq.configure()
    assert len(held) == 1 and pending(r) == []


def test_which_hooks_take_a_database_is_read_from_the_signature() -> None:
    def keyword(callback: Callable[[], object], *, database: str | None = None) -> None: ...
    def positional(callback: Callable[[], object], database: str | None = None) -> None: ...
    def any_keyword(callback: Callable[[], object], **options: object) -> None: ...
    def named_otherwise(callback: Callable[[], object], using: str | None = None) -> None: ...

    assert CommitHook(keyword).takes_database and CommitHook(positional).takes_database
    assert CommitHook(any_keyword).takes_database
    assert not CommitHook(named_otherwise).takes_database
    assert not CommitHook(lambda callback: None).takes_database
    assert not CommitHook([].append).takes_database


@pytest.mark.parametrize("database", ["", 3, None])
def test_a_database_must_be_a_name(database: object) -> None:
    with pytest.raises(asynq.ValidationError, match="database must be a non-empty name"):
        welcome.using(database=database)  # type: ignore[arg-type]
