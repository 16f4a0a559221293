"""Queue order for dequeue (Go's processor.queues()) and Config normalisation."""

from __future__ import annotations

import random
from collections import Counter
from datetime import timedelta

import pytest

import asynq
from asynq.server import Config
from asynq.server._queues import QueueSelector, normalize


def test_normalize_divides_by_gcd() -> None:
    assert normalize({"critical": 6, "default": 3, "low": 3}) == {
        "critical": 2,
        "default": 1,
        "low": 1,
    }


def test_single_queue_and_strict_order() -> None:
    assert QueueSelector({"only": 5}).order() == ["only"]
    strict = QueueSelector({"low": 1, "critical": 6, "default": 3}, strict=True)
    assert strict.order() == ["critical", "default", "low"]


def test_weighted_order_frequencies() -> None:
    """First choice ~ priority / sum; every order lists every queue once (vector 7)."""
    selector = QueueSelector({"critical": 6, "default": 3, "low": 1}, rng=random.Random(7))
    n = 20_000
    firsts: Counter[str] = Counter()
    second_after_critical: Counter[str] = Counter()
    for _ in range(n):
        order = selector.order()
        assert sorted(order) == ["critical", "default", "low"]
        firsts[order[0]] += 1
        if order[0] == "critical":
            second_after_critical[order[1]] += 1
    for name, share in {"critical": 0.6, "default": 0.3, "low": 0.1}.items():
        assert abs(firsts[name] / n - share) < 0.015, (name, firsts)
    # Among the rest, the next queue is again drawn by priority: default 3 : low 1.
    rest = second_after_critical["default"] + second_after_critical["low"]
    assert abs(second_after_critical["default"] / rest - 0.75) < 0.02


def test_weighted_equals_go_shuffle_dedupe() -> None:
    """The sampled orders have the distribution of Go's shuffle-then-dedupe."""
    queues = {"a": 3, "b": 2, "c": 1}
    rng = random.Random(1)
    n = 30_000
    go: Counter[tuple[str, ...]] = Counter()
    for _ in range(n):
        pool = [q for q, p in queues.items() for _ in range(p)]
        rng.shuffle(pool)
        go[tuple(dict.fromkeys(pool))] += 1
    ours = Counter(tuple(QueueSelector(queues, rng=rng).order()) for _ in range(n))
    for order in go:
        assert abs(go[order] - ours[order]) / n < 0.015, order


def test_config_defaults_are_gos() -> None:
    cfg = Config()
    assert cfg.concurrency >= 1
    assert cfg.queues == {"default": 1}
    assert (cfg.task_check_interval, cfg.delayed_task_check_interval) == (1.0, 5.0)
    assert (cfg.shutdown_timeout, cfg.health_check_interval) == (8.0, 15.0)
    assert (cfg.group_grace_period, cfg.group_max_delay, cfg.group_max_size) == (60.0, 0.0, 0)
    assert (cfg.janitor_interval, cfg.janitor_batch_size) == (8.0, 100)


def test_config_normalises() -> None:
    cfg = Config(
        concurrency=0,
        queues={"": 3, " ": 1, "a": 0, "b": -1, "c": 2},
        shutdown_timeout=timedelta(seconds=3),
        task_check_interval=-1,
    )
    assert cfg.queues == {"c": 2}
    assert cfg.shutdown_timeout == 3.0
    assert cfg.task_check_interval == 1.0
    assert Config(queues={"": 1}).queues == {"default": 1}


@pytest.mark.parametrize(
    "kwargs",
    [
        pytest.param({"group_grace_period": 0.5}, id="grace-under-1s"),
        pytest.param({"shutdown_timeout": "8s"}, id="bad-duration"),
        pytest.param({"queues": {"a": 1.5}}, id="float-priority"),
        pytest.param({"janitor_batch_size": -1}, id="negative-batch"),
    ],
)
def test_config_rejects(kwargs: dict) -> None:
    with pytest.raises(asynq.ValidationError):
        Config(**kwargs)


def test_default_retry_delay_range() -> None:
    from asynq.server import default_retry_delay

    task = asynq.Task("t", b"")
    delays = {default_retry_delay(0, Exception(), task) for _ in range(500)}
    assert min(delays) == 15 and max(delays) == 44
    delays = {default_retry_delay(2, Exception(), task) for _ in range(2000)}
    assert min(delays) >= 16 + 15 and max(delays) <= 16 + 15 + 29 * 3
