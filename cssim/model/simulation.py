"""The simulation: one sales peak at one shop, on a SimPy clock in seconds (MODEL.md step 10).

:class:`Simulation` owns the clock and wires the model's rooms together, each a mixin with its
own state and steps: :class:`~cssim.model.pools.Routing` (who gets an inquiry),
:class:`~cssim.model.conversation.Conversation` (turns, typing queues, bot chats),
:class:`~cssim.model.funnel.Funnel` (orders, follow-ups, nudges) and
:class:`~cssim.model.shifts.Shifts` (who is on when, busy and overtime seconds). Mixins, not
collaborating objects, because a turn's steps run millions of times a day: a call on ``self``
costs no extra attribute hop.

What happens, when:

* Customers are drawn up front (:mod:`cssim.model.customers`). Arrivals need no event: the loop
  merges the sorted arrival instants with SimPy's calendar and handles the next arrival when it
  comes before the next scheduled event.
* Every other step is a :class:`Call` scheduled at an absolute instant (s): no process per
  customer and no timer per patience.
* At the horizon (``horizon_h``) arrivals stop and nobody takes a new chat; whoever waits in
  the shop queue then is never served. The clock runs on until every chat that began before the
  horizon has ended (the drain), with the humans on shift at the horizon staying for the
  follow-ups and nudges falling due meanwhile.
"""

from __future__ import annotations

from heapq import heappop, heappush
from typing import Callable

import numpy as np
import simpy
from simpy.events import NORMAL

from cssim.arrivals import interval_edges_s
from cssim.config import Config
from cssim.model.conversation import Conversation
from cssim.model.customers import draw_customers
from cssim.model.funnel import Funnel
from cssim.model.pools import Routing
from cssim.model.records import INF, Records
from cssim.model.shifts import Shifts
from cssim.streams import make_streams


class Call:
    """A bare SimPy event that calls one callback with a payload: what every step of this
    model is (SimPy's ``step`` reads only ``callbacks`` and ``_ok``)."""

    __slots__ = ("callbacks", "value")
    _ok = True

    def __init__(self, callback: Callable[["Call"], None], payload: object):
        self.callbacks = (callback,)
        self.value = payload


class Simulation(Routing, Conversation, Funnel, Shifts):
    """One replication. Build it, then :meth:`run` it once.

    Hooks tests and subclasses may override: ``_arrive(cid)`` (a new inquiry at ``self.now``)
    and ``_assign(agent, cid)`` (a chat takes one of the agent's slots)."""

    def __init__(
        self, cfg: Config, seed: int, replication: int = 0, progress: Callable[[float], None] | None = None
    ):
        self.cfg = cfg
        self.progress = progress  # called with the share of the horizon done, once per interval
        streams = make_streams(seed, replication)
        self.env = simpy.Environment()
        # SimPy's own calendar and event counter, used directly by _at and _loop: a day runs
        # ~2.5M events, and Environment.schedule/step cost more than the model's work per event.
        self._cal = self.env._queue
        self._eid = self.env._eid
        self._cal_now = self.env.now  # the calendar's clock: the instant of the last event popped
        self.now = 0.0  # the model's clock (s); see _loop
        self.horizon = cfg.horizon_h * 3600.0
        self.warmup = cfg.warmup_h * 3600.0
        self.edges = interval_edges_s(cfg)
        self.ilen = cfg.interval_min * 60.0
        self.cust = cust = draw_customers(cfg, streams)
        self._init_shifts()
        self._init_routing(cfg, streams, self.edges.size - 1)
        self._init_chats(cust)
        self._init_funnel()
        self.draining = False
        self.events = 0  # events scheduled (set when the run ends)

    def _at(self, t: float, callback: Callable[[Call], None], payload: object) -> None:
        """Call ``callback(event)`` at absolute time ``t`` (s); ``event.value`` is ``payload``.

        Exactly ``env.schedule(event, NORMAL, t - env.now)``: the same entry, time computed the
        same way (``now + (t - now)``, which may round differently from ``t``), the same id."""
        now = self._cal_now
        heappush(self._cal, (now + (t - now), NORMAL, next(self._eid), Call(callback, payload)))

    def run(self) -> Records:
        """Simulate from 0 to the horizon, then drain, and return the records."""
        self._staff()
        if self.progress is not None:
            for t in self.edges[1:-1]:
                self._at(float(t), self._report, None)
        self._loop()
        self.events = next(self._eid)  # ids count from 0: the next one is how many were scheduled
        return Records(
            customers=self.cust,
            assigned=self.assigned,
            first_start=self.first_start,
            first_sent=self.first_sent,
            first_pool=self.first_pool,
            human_pool=self.human_pool,
            end=self.end,
            end_pool=self.end_pool,
            resp_sum=self.resp_sum,
            resp_n=self.resp_n,
            escalated=self.escalated,
            order=self.order,
            followup_done=self.followup_done,
            followup_order=self.followup_order,
            busy_s={k: p.busy_s for k, p in self.pools.items()},
            busy_w={k: p.busy_w for k, p in self.pools.items()},
            overtime_s={k: p.overtime_s for k, p in self.pools.items()},
            overtime_w={k: p.overtime_w for k, p in self.pools.items()},
            waiting_at_end=self._waiting_at_end,
            groups={k: (g if self.pools[k] in self.in_use else []) for k, g in self.groups.items()},
            edges_s=self.edges,
            horizon_s=self.horizon,
            end_s=self.now,
            events=self.events,
            last_agent=self.last_agent,
            end_t=self.end_t,
            order_t=self.order_t,
            turn=self.turn,
            turns=self.turns,
        )

    def _close(self) -> None:
        """The horizon (MODEL.md step 10): arrivals have stopped and nobody takes a new chat.
        Whoever waits in the shop queue now is never served (``waiting_at_end``); chats already
        held go on to their end (overtime), and the humans on shift now stay for the follow-ups
        and nudges that fall due while the drain lasts."""
        T = self.horizon
        dl = self.deadline
        waiting = np.zeros(self.n, dtype=bool)
        for c in self.q_new:
            if dl[c] > T:
                waiting[c] = True
        self._waiting_at_end = waiting
        self.q_new.clear()
        self.draining = True
        for a in self.agents:
            if a.on_shift:
                a.stays = a.pool.human
                a.pool.leave(a, T)
        if self.progress is not None:
            self.progress(1.0)

    def _report(self, ev: Call) -> None:
        self.progress(self.now / self.horizon)

    def _loop(self) -> None:
        """Merge the pre-drawn, sorted arrivals with SimPy's event calendar up to the horizon,
        then drain: run the calendar until it is empty (chats that began before the horizon end).

        Arrivals need no event of their own: the next one is handled when it comes before the
        next scheduled event (``env.peek()``), everything else is ``env.step()``. ``self.now``
        is the model's clock for both (every handler reads it); SimPy's clock catches up at
        the next step, and events are always scheduled at absolute times >= both clocks.
        A step is ``env.step()`` inlined (pop the earliest entry, advance the calendar's clock,
        call the event's callback): a :class:`Call` never fails and is never reused.
        """
        cal, env = self._cal, self.env
        arrival, n, horizon = self.arrival, self.n, self.horizon
        i = 0
        t_arr = arrival[0] if n else INF
        while True:
            t_ev = cal[0][0] if cal else INF
            if t_arr < t_ev:
                if t_arr >= horizon:
                    break
                self.now = t_arr
                self._arrive(i)
                i += 1
                t_arr = arrival[i] if i < n else INF
            else:
                if t_ev >= horizon:
                    break
                self.now = t_ev
                ev = heappop(cal)[3]
                self._cal_now = env._now = t_ev
                ev.callbacks[0](ev)
        self.now = horizon
        self._close()
        while cal and cal[0][0] != INF:  # an event at inf never comes (as with env.peek())
            t_ev, _, _, ev = heappop(cal)
            self.now = self._cal_now = env._now = t_ev
            ev.callbacks[0](ev)

