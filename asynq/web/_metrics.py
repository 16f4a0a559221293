"""Prometheus text exposition (format 0.0.4) of the queue metric families.

The figures and names come from :mod:`asynq._metric_families`, which the ``prometheus_client``
collector (:mod:`asynq.prometheus`) reads too.
"""

from __future__ import annotations

from collections.abc import Iterable

from asynq._metric_families import queue_metric_families
from asynq._snapshots import QueueInfo

#: ``Content-Type`` of the text format, version 0.0.4.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def escape_label(value: str) -> str:
    """Escape a label value: backslash, double quote and newline."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: float) -> str:
    if isinstance(value, int) or float(value).is_integer():
        return str(int(value))
    return repr(float(value))


def render(infos: Iterable[QueueInfo]) -> str:
    """The exposition text for ``infos`` (one ``QueueInfo`` per queue)."""
    lines = []
    for family in queue_metric_families(infos):
        lines.append(f"# HELP {family.name} {family.help}")
        lines.append(f"# TYPE {family.name} {family.kind}")
        for sample in family.samples:
            pairs = zip(family.label_names, sample.label_values, strict=True)
            labels = ",".join(f'{k}="{escape_label(v)}"' for k, v in pairs)
            lines.append(f"{family.name}{{{labels}}} {_number(sample.value)}")
    return "\n".join(lines) + "\n"
