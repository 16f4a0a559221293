"""A Sentinel failover after the primary is SIGKILLed mid-run: producer and worker follow the
promoted replica through ``redis-sentinel://`` and no task is lost (see ``_failover_run``).
"""

from __future__ import annotations

import pytest

from tests.deploy import _failover_run
from tests.deploy._sentinel import FailoverSet

#: Tasks whose completion was lost with the primary come back only once their leases have
#: expired and the recoverer has run: on a loaded machine that can take half a minute.
pytestmark = pytest.mark.timeout(120)


async def test_tasks_flow_through_a_failover_after_sigkill(
    monkeypatch: pytest.MonkeyPatch, failover_set: FailoverSet
) -> None:
    await _failover_run.tasks_flow_through(monkeypatch, failover_set, _failover_run.sigkill)
