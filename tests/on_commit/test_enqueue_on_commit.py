"""asynq.sqlalchemy: enqueues held until the SQLAlchemy transaction commits, dropped on rollback,
savepoints honoured; against a real SQLite database and a real Redis."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from sqlalchemy import Engine, String, create_engine, select
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    mapped_column,
    scoped_session,
    sessionmaker,
)

import asynq
from asynq.sqlalchemy import enqueue_on_commit, on_commit

registry = asynq.TaskRegistry()


@registry.task("user:welcome")
def welcome(user_id: int) -> None: ...


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40))


@pytest.fixture
def engine(tmp_path: Path, redis_url: str) -> Iterator[Engine]:
    asynq.configure(redis_url)
    engine = create_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()
    asynq.configure()


def sent(r: redis.Redis) -> list[bytes]:
    """The payloads of the pending tasks, oldest first."""
    ids = r.lrange("asynq:{default}:pending", 0, -1)
    return [asynq.Inspector(r).get_task_info("default", i.decode()).payload for i in reversed(ids)]


def test_sent_after_commit_and_not_before(engine: Engine, r: redis.Redis) -> None:
    with Session(engine) as session, session.begin():
        session.add(User(id=1, name="ada"))
        session.flush()
        enqueue_on_commit(session, welcome, 1)
        enqueue_on_commit(session, asynq.Task("audit", b"user 1"), queue="audit")
        assert sent(r) == [] and r.llen("asynq:{audit}:pending") == 0
    assert sent(r) == [b'{"user_id":1}']
    assert r.llen("asynq:{audit}:pending") == 1


def test_dropped_on_rollback(engine: Engine, r: redis.Redis) -> None:
    with Session(engine) as session:
        session.add(User(id=1, name="ada"))
        enqueue_on_commit(session, welcome, 1)
        session.rollback()
        session.add(User(id=2, name="bob"))
        enqueue_on_commit(session, welcome, 2)  # the next transaction's own
        session.commit()
    with pytest.raises(RuntimeError), Session(engine) as session, session.begin():
        session.add(User(id=3, name="cy"))
        enqueue_on_commit(session, welcome, 3)
        raise RuntimeError("the view failed")
    assert sent(r) == [b'{"user_id":2}']
    with Session(engine) as session:
        assert session.scalars(select(User.id)).all() == [2]


def test_savepoints_behave_as_the_data_does(engine: Engine, r: redis.Redis) -> None:
    with Session(engine) as session:
        session.add(User(id=1, name="outer"))
        enqueue_on_commit(session, welcome, 1)
        with pytest.raises(ValueError), session.begin_nested():
            session.add(User(id=2, name="rolled back"))
            enqueue_on_commit(session, welcome, 2)
            raise ValueError
        with session.begin_nested():
            session.add(User(id=3, name="released"))
            enqueue_on_commit(session, welcome, 3)
            with session.begin_nested():  # released inside a released one
                enqueue_on_commit(session, welcome, 4)
        assert sent(r) == []  # released savepoints wait for the outer commit
        session.commit()
    assert sent(r) == [b'{"user_id":1}', b'{"user_id":3}', b'{"user_id":4}']

    with Session(engine) as session:
        with session.begin_nested():
            enqueue_on_commit(session, welcome, 5)
        session.rollback()  # a released savepoint goes down with the outer rollback
    assert len(sent(r)) == 3


def test_outside_a_transaction_it_is_sent_at_once(engine: Engine, r: redis.Redis) -> None:
    with Session(engine) as session:
        enqueue_on_commit(session, welcome, 1)
        assert sent(r) == [b'{"user_id":1}']


def test_scoped_sessions_and_callbacks(engine: Engine, r: redis.Redis) -> None:
    scoped = scoped_session(sessionmaker(engine))
    calls: list[str] = []
    scoped.add(User(id=1, name="ada"))
    on_commit(scoped, lambda: calls.append("committed"))
    enqueue_on_commit(scoped, welcome, 1)
    assert calls == []
    scoped.commit()
    assert calls == ["committed"] and len(sent(r)) == 1
    scoped.remove()


async def test_async_sessions(tmp_path: Path, redis_url: str, r: redis.Redis) -> None:
    from sqlalchemy.ext.asyncio import AsyncSession

    asynq.configure(redis_url)
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'a.sqlite'}")
    try:
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
        async with AsyncSession(engine) as session:
            session.add(User(id=1, name="ada"))
            enqueue_on_commit(session, welcome, 1)
            assert sent(r) == []
            await session.commit()
        assert sent(r) == [b'{"user_id":1}']
    finally:
        await engine.dispose()
        asynq.configure()


def test_bad_arguments_fail_now_not_at_commit(engine: Engine, r: redis.Redis) -> None:
    with Session(engine) as session, session.begin():
        session.add(User(id=1, name="ada"))
        with pytest.raises(asynq.ValidationError):
            enqueue_on_commit(session, welcome, "not a number", 2)
        with pytest.raises(asynq.ValidationError, match="expected a SQLAlchemy Session"):
            enqueue_on_commit(object(), welcome, 1)
        with pytest.raises(asynq.ValidationError, match=r"task function or an asynq\.Task"):
            enqueue_on_commit(session, "user:welcome", 1)  # type: ignore[arg-type]
    assert sent(r) == []


def test_a_failed_enqueue_is_raised_from_commit_after_the_others_ran(
    engine: Engine, r: redis.Redis
) -> None:
    session = Session(engine)
    session.add(User(id=1, name="ada"))
    enqueue_on_commit(session, asynq.Task("dup"), task_id="same")
    enqueue_on_commit(session, asynq.Task("dup"), task_id="same")  # conflicts at commit
    enqueue_on_commit(session, welcome, 1)
    with pytest.raises(asynq.TaskIDConflictError):
        session.commit()
    session.close()
    assert len(sent(r)) == 2  # the first "dup" and the welcome
    with Session(engine) as check:
        assert check.get(User, 1) is not None  # committed before the enqueues


def test_a_task_function_without_a_commit_hook_says_what_to_install(engine: Engine) -> None:
    with pytest.raises(asynq.AsynqError, match="needs a commit hook"):
        welcome.enqueue_on_commit(1)


def test_the_session_as_commit_hook_for_task_functions(engine: Engine, r: redis.Redis) -> None:
    with Session(engine) as session, session.begin():
        with asynq.use_commit_hook(lambda callback: on_commit(session, callback)):
            info = welcome.enqueue_on_commit(1)
            with pytest.raises(asynq.ValidationError):
                welcome.enqueue_on_commit("not", "fitting")  # refused now, not at commit
        assert info.state == asynq.TaskState.PENDING  # its id is fixed before the commit
        assert sent(r) == []
    assert asynq.Inspector(r).get_task_info("default", info.id).payload == b'{"user_id":1}'
    welcome.enqueue(2)  # outside the block: sent at once, as usual
    assert sent(r) == [b'{"user_id":1}', b'{"user_id":2}']


def test_the_session_hook_refuses_a_handle_naming_a_database(
    engine: Engine, r: redis.Redis
) -> None:
    with (
        Session(engine) as session,
        session.begin(),
        pytest.raises(asynq.ValidationError, match="commit hook takes no database"),
    ):
        enqueue_on_commit(session, welcome.using(database="other"), 1)
    assert sent(r) == []  # the session is the transaction: no other one to wait for


def test_defer_enqueue_holds_plain_enqueues_too(engine: Engine, r: redis.Redis) -> None:
    with pytest.raises(RuntimeError), Session(engine) as session, session.begin():
        hook = lambda callback: on_commit(session, callback)  # noqa: E731
        with asynq.use_commit_hook(hook, defer_enqueue=True):
            welcome.enqueue(1)
            welcome.enqueue_at(4102444800, 2)
        raise RuntimeError("rolled back: nothing goes")
    assert sent(r) == [] and r.zcard("asynq:{default}:scheduled") == 0
    with Session(engine) as session, session.begin():
        hook = lambda callback: on_commit(session, callback)  # noqa: E731
        with asynq.use_commit_hook(hook, defer_enqueue=True):
            welcome.enqueue(3)
        assert sent(r) == []
    assert sent(r) == [b'{"user_id":3}']


def test_a_process_wide_commit_hook(engine: Engine, r: redis.Redis) -> None:
    held: list[object] = []
    asynq.set_commit_hook(held.append)  # a framework's hook that holds every callback
    try:
        info = welcome.enqueue_on_commit(1)
        assert sent(r) == [] and len(held) == 1
        held.pop()()  # type: ignore[operator]  # the framework's commit
    finally:
        asynq.set_commit_hook(None)
    assert asynq.Inspector(r).get_task_info("default", info.id).state == asynq.TaskState.PENDING
    with pytest.raises(asynq.ValidationError, match="must be callable"):
        asynq.set_commit_hook("not a function")  # type: ignore[arg-type]
