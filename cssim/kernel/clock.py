"""The kernel's calendar: pending steps keyed by plain instants (s), processed by instant, then
in the order they were scheduled (docs/model.md#order-of-events; the reference model's SimPy
environment gives the same order, ``tests/test_engine_identity.py``).

SimPy's :class:`simpy.Environment` keeps one heap of ``(time, priority, id, event)`` tuples, so
every sift compares tuples; a day of the Semir scenario pops ~2.5M steps from a calendar of
thousands. :class:`Clock` keeps the same order in three parts:

* ``times``: a heap of the instants that have something pending, each instant once: sifts
  compare floats only;
* ``first``: instant -> the step to process first at that instant;
* ``later``: instant -> the other steps pending at that same instant, as ``[seq, step]``
  entries in scheduling order (``seq``: the clock's own counter); rare: two steps seldom fall on
  the same float instant.

The step loop pushes and pops through these structures inline
(:meth:`cssim.kernel.conversation.Turns._steps`); :meth:`push` and :meth:`pop_first`
handle every case. What the kernel's calendar does not have, because production never used it:
priorities (every kernel step is scheduled alike; the same-instant order of tasks falling due
and arrivals is kept by the step loop, which merges them after the calendar) and SimPy's
``schedule``/``step``/``run`` (the kernel runs no SimPy process; the reference model does, on
SimPy itself).
"""

from __future__ import annotations

from heapq import heappop, heappush
from itertools import count


class Clock:
    """Pending steps by instant (s), then scheduling order."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self.first: dict[float, object] = {}
        self.later: dict[float, list[list]] = {}
        self._seq = count()  # scheduling order of steps that share an instant

    def push(self, t: float, step: object) -> None:
        """Put ``step`` on the calendar at instant ``t`` (s), after what is already there."""
        if t not in self.first:
            self.first[t] = step
            heappush(self.times, t)
        else:
            self.later.setdefault(t, []).append([next(self._seq), step])

    def pop_first(self, t: float) -> object:
        """Take the step that goes first at instant ``t`` (the earliest instant pending)."""
        step = self.first.pop(t)
        rest = self.later.get(t) if self.later else None
        if rest:
            self.first[t] = rest.pop(0)[1]
            if not rest:
                del self.later[t]
        else:
            heappop(self.times)
        return step

    def pending(self) -> int:
        """Steps still on the calendar."""
        return len(self.first) + sum(len(v) for v in self.later.values())
