"""The fast lane: the one place asynq reaches past redis-py's public API (see README.md here).

:mod:`~asynq._broker.lane.wire` writes RESP bytes onto redis-py's pooled connections and reads
the replies with a hiredis reader set up like redis-py's; :mod:`~asynq._broker.lane.coalesce`
sends the calls of concurrent callers together; :mod:`~asynq._broker.lane.resp` makes the bytes
and reads the replies. ``Client(..., fast_lane=False)`` or ``ASYNQ_FAST_LANE=0`` turns it off:
every call then goes through redis-py's public API.
"""

from __future__ import annotations

import os
from typing import Final

#: The environment switch: ``ASYNQ_FAST_LANE=0`` keeps every client on redis-py's public API.
ENV_SWITCH: Final = "ASYNQ_FAST_LANE"
_OFF: Final = frozenset({"0", "false", "no", "off"})


def enabled(requested: bool | None = None) -> bool:
    """Whether to use the lane: ``requested`` if given, else ``$ASYNQ_FAST_LANE`` (default on)."""
    if requested is not None:
        return requested
    return os.environ.get(ENV_SWITCH, "1").strip().lower() not in _OFF
