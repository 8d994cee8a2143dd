"""The clock: a SimPy environment whose calendar is keyed by plain instants (s).

SimPy's :class:`simpy.Environment` keeps one heap of ``(time, priority, id, event)`` tuples, so
every sift compares tuples (a float equality test, then the order test, per level); a day of
the Semir scenario pops ~2.5M events from a calendar of thousands. :class:`Clock` keeps the
same order, exactly — by instant, then priority, then scheduling order (``id``) — in four
parts:

* ``times``: a heap of the instants that have something pending, each instant once: sifts
  compare floats only;
* ``first``: instant -> the event to process first at that instant;
* ``later``: instant -> the other events pending at that same instant, as ``[priority, seq,
  event]`` entries in processing order (``seq``: the clock's own scheduling counter; a
  ``first`` event moved back behind a more urgent one gets -1); rare: two steps seldom fall on
  the same float instant;
* ``first_pri``: the priority of a ``first`` event, only when it is not ``NORMAL``.

The model's steps push and pop through these structures inline (see
:meth:`cssim.kernel.conversation.Conversation._steps`); :meth:`push` handles every case,
:meth:`schedule`/:meth:`step`/:meth:`peek` keep SimPy's interface, so SimPy processes and
timeouts run on a :class:`Clock` as on SimPy's own environment (``tests/test_clock.py``).
"""

from __future__ import annotations

from bisect import insort
from heapq import heappop, heappush
from itertools import count

import simpy
from simpy.core import EmptySchedule, Infinity, StopSimulation
from simpy.events import NORMAL


class Clock(simpy.Environment):
    """SimPy's environment with a calendar of float keys (same processing order)."""

    def __init__(self, initial_time: float = 0.0):
        super().__init__(initial_time)
        self.times: list[float] = []
        self.first: dict[float, object] = {}
        self.later: dict[float, list[list]] = {}
        self.first_pri: dict[float, int] = {}
        self._seq = count()  # scheduling order of events that share an instant

    # ----------------------------------------------------------------- the calendar
    def push(self, t: float, event: object, priority: int = NORMAL) -> None:
        """Put ``event`` on the calendar at instant ``t`` (s)."""
        first = self.first
        if t not in first:
            first[t] = event
            heappush(self.times, t)
            if priority != NORMAL:
                self.first_pri[t] = priority
            return
        later = self.later.setdefault(t, [])
        if priority < self.first_pri.get(t, NORMAL):
            # More urgent than what goes first now: it takes the front, the old first the
            # front of the rest (it precedes every event already there).
            old = [self.first_pri.pop(t, NORMAL), -1, first[t]]
            later.insert(0, old)
            first[t] = event
            self.first_pri[t] = priority
        else:
            # [priority, seq]: the new entry's seq is unique, so no event is ever compared
            insort(later, [priority, next(self._seq), event])

    def pop_first(self, t: float) -> object:
        """Take the event that goes first at instant ``t`` (the earliest instant pending)."""
        event = self.first.pop(t)
        if self.first_pri:
            self.first_pri.pop(t, None)
        rest = self.later.get(t) if self.later else None
        if rest:
            priority, _, nxt = rest.pop(0)
            self.first[t] = nxt
            if priority != NORMAL:
                self.first_pri[t] = priority
            if not rest:
                del self.later[t]
        else:
            heappop(self.times)
        return event

    def pending(self) -> int:
        """Events still on the calendar."""
        return len(self.first) + sum(len(v) for v in self.later.values())

    # ----------------------------------------------------------------- SimPy's interface
    def schedule(self, event, priority=NORMAL, delay=0) -> None:
        self.push(self._now + delay, event, priority)

    def peek(self) -> float:
        return self.times[0] if self.times else Infinity

    def step(self) -> None:
        """Process the next event (SimPy's semantics: callbacks in order, a failed event
        that nobody defused crashes the run)."""
        if not self.times:
            raise EmptySchedule()
        t = self.times[0]
        event = self.pop_first(t)
        self._now = t
        callbacks, event.callbacks = event.callbacks, None
        for i, callback in enumerate(callbacks):
            try:
                callback(event)
            except StopSimulation:
                event.callbacks = callbacks[i + 1 :]
                self.schedule(event, -1)  # resumes first when the run goes on (as SimPy)
                raise
        if not event._ok and not hasattr(event, "_defused"):
            exc = type(event._value)(*event._value.args)
            exc.__cause__ = event._value
            raise exc
