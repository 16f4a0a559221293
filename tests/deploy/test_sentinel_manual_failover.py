"""An operator's ``SENTINEL FAILOVER`` mid-run (the primary is demoted, not killed): no task is
lost (see ``_failover_run``).
"""

from __future__ import annotations

import pytest

from tests.deploy import _failover_run
from tests.deploy._sentinel import FailoverSet

#: Tasks whose completion the worker wrote to the demoted primary come back only when their
#: leases have expired and the recoverer has run: the run's bookkeeping takes half a minute.
pytestmark = pytest.mark.timeout(120)


async def test_tasks_flow_through_a_manual_failover(
    monkeypatch: pytest.MonkeyPatch, failover_set: FailoverSet
) -> None:
    await _failover_run.tasks_flow_through(
        monkeypatch, failover_set, _failover_run.sentinel_failover
    )
