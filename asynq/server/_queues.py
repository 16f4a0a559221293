"""The order in which a worker polls its queues (Go's ``processor.queues()``)."""

from __future__ import annotations

import math
import random
from collections.abc import Mapping


def normalize(queues: Mapping[str, int]) -> dict[str, int]:
    """Divide every priority by their greatest common divisor (Go's ``normalizeQueues``)."""
    divisor = math.gcd(*queues.values()) if queues else 1
    return {name: priority // divisor for name, priority in queues.items()}


class QueueSelector:
    """Produces the queue order for each dequeue attempt.

    - One queue: always that queue.
    - Strict priority: highest priority first, fixed at start (ties in unspecified order).
    - Weighted (default): Go lists each queue ``priority`` times (after GCD normalisation),
      shuffles the list and keeps first occurrences. The first queue is thus chosen with
      probability priority / sum, the next among the rest likewise, and so on. Drawing
      queues one by one with those probabilities gives exactly that distribution without
      building a list as long as the sum of priorities.
    """

    def __init__(
        self, queues: Mapping[str, int], strict: bool = False, rng: random.Random | None = None
    ) -> None:
        self._queues = normalize(queues)
        self._rng = rng or random.Random()
        self._fixed: list[str] | None = None
        if len(self._queues) == 1:
            self._fixed = list(self._queues)
        elif strict:
            self._fixed = sorted(self._queues, key=lambda q: self._queues[q], reverse=True)

    @property
    def names(self) -> list[str]:
        """Every queue name."""
        return list(self._queues)

    def order(self) -> list[str]:
        """The queues to try, in order, for one dequeue attempt."""
        if self._fixed is not None:
            return list(self._fixed)
        remaining = dict(self._queues)
        order: list[str] = []
        while remaining:
            pick = self._rng.randrange(sum(remaining.values()))
            chosen = ""
            for chosen, priority in remaining.items():  # noqa: B007 - chosen is the result
                if pick < priority:
                    break
                pick -= priority
            order.append(chosen)
            del remaining[chosen]
        return order
