"""An operator's ``SENTINEL FAILOVER`` mid-run (the primary is demoted, not killed): no task is
lost (see ``_failover_run``).
"""

from __future__ import annotations

import pytest

from tests.deploy import _failover_run
from tests.deploy._sentinel import FailoverSet


async def test_tasks_flow_through_a_manual_failover(
    monkeypatch: pytest.MonkeyPatch, failover_set: FailoverSet
) -> None:
    await _failover_run.tasks_flow_through(
        monkeypatch, failover_set, _failover_run.sentinel_failover
    )
