"""The simulation: one sales peak at one shop, on a clock in seconds (MODEL.md step 10).

:class:`Simulation` owns the clock and wires the model's rooms together, each a mixin with its
own state and steps: :class:`~cssim.model.pools.Routing` (who gets an inquiry),
:class:`~cssim.model.conversation.Conversation` (turns, typing queues, bot chats),
:class:`~cssim.model.conversation.ChatEnds` (how a chat ends),
:class:`~cssim.model.funnel.Funnel` (orders, follow-ups, nudges) and
:class:`~cssim.model.shifts.Shifts` (who is on when, busy and overtime seconds). Mixins, not
collaborating objects, because a turn's steps run millions of times a day: a call on ``self``
costs no extra attribute hop.

What happens, when:

* Customers are drawn up front (:mod:`cssim.model.customers`); a chat's per-turn draws when it
  first needs them, by blocks. Arrivals need no event: the loop merges the sorted arrival
  instants with the calendar (:class:`~cssim.model.clock.Clock`, a SimPy environment keyed by
  plain instants) and with the FIFO of follow-ups and nudges falling due
  (:class:`~cssim.model.funnel.Funnel`), taking whichever comes first (on a tie: the calendar,
  then a task falling due, then an arrival).
* A chat's steps are the chat itself as a SimPy event (:class:`~cssim.model.chat.Chat`); every
  other step is a :class:`Call`, scheduled at an absolute instant (s): no process per customer
  and no timer per patience.
* At the horizon (``horizon_h``) arrivals stop and nobody takes a new chat; whoever waits in
  the shop queue then is never served. The clock runs on until every chat that began before the
  horizon has ended (the drain), with the humans on shift at the horizon staying for the
  follow-ups and nudges falling due meanwhile.
"""

from __future__ import annotations

import gc
from typing import Callable

import numpy as np

from cssim.arrivals import interval_edges_s
from cssim.config import Config
from cssim.model.clock import Clock
from cssim.model.conversation import ChatEnds, Conversation
from cssim.model.customers import ChatDraws, draw_customers
from cssim.model.funnel import Funnel
from cssim.model.pools import Routing
from cssim.model.records import INF, Records, Writer
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


class Simulation(Routing, Conversation, ChatEnds, Funnel, Shifts):
    """One replication. Build it, then :meth:`run` it once.

    Hooks tests and subclasses may override: ``_arrive(cid)`` (a new inquiry at ``self.now``)
    and ``_assign(agent, chat)`` (a chat takes one of the agent's slots)."""

    def __init__(
        self, cfg: Config, seed: int, replication: int = 0, progress: Callable[[float], None] | None = None
    ):
        self.cfg = cfg
        self.progress = progress  # called with the share of the horizon done, once per interval
        streams = make_streams(seed, replication)
        # The clock (a SimPy environment, :mod:`cssim.model.clock`); its calendar is used
        # directly: a day runs ~2.5M events, and Environment.schedule/step cost more than the
        # model's work per event.
        self.env = clock = Clock()
        self.cal, self.first = clock.times, clock.first
        self.popped = 0  # events processed (counted by _steps)
        self.now = 0.0  # the model's clock (s); see _loop
        self.horizon = cfg.horizon_h * 3600.0
        self.warmup = cfg.warmup_h * 3600.0
        self.edges = interval_edges_s(cfg)
        self.ilen = cfg.interval_min * 60.0
        self.cust = cust = draw_customers(cfg, streams)
        n = self.n = cust.n
        # Per-customer inputs the steps read, as memoryviews (python-level element access).
        self.arrival = memoryview(cust.arrival)
        self.patience = memoryview(cust.patience)
        self.handover_patience = memoryview(cust.handover_patience)
        self.turns = memoryview(cust.turns)
        self.silent = memoryview(cust.silent)
        self.presale = memoryview(cust.presale)
        self.returning = memoryview(cust.returning)
        self.u_order = memoryview(cust.u_order)
        self.u_pay_now = memoryview(cust.u_pay_now)
        self.u_followup = memoryview(cust.u_followup)
        self.u_bot = memoryview(cust.u_bot)
        self.task_reply = [[memoryview(cust.task_reply[p, k]) for k in range(2)] for p in range(2)]
        self.rw = Writer(n, cust.turns)
        self._init_shifts()
        self._init_routing(cfg, self.edges.size - 1)
        # no bot in the routing: no chat is ever handed over, its extra draws are not needed
        self.draws = ChatDraws(cfg, seed, replication, cust.turns, escalations=self.bot is not None)
        self._init_chats()
        self._init_funnel()
        self.events = 0  # events scheduled (set when the run ends)

    def _at(self, t: float, callback: Callable[[Call], None], payload: object) -> None:
        """Call ``callback(event)`` at absolute time ``t`` (s); ``event.value`` is ``payload``."""
        self.env.push(t, Call(callback, payload))

    def run(self) -> Records:
        """Simulate from 0 to the horizon, then drain, and return the records."""
        self._staff()
        if self.progress is not None:
            for t in self.edges[1:-1]:
                self._at(float(t), self._report, None)
        # No step makes a reference cycle (a chat, its agent, its block and the calendar entry
        # all go by reference counting), so the cyclic collector would only rescan the young
        # objects of ~2.5M steps thousands of times: off while the clock runs (~5-10% faster).
        collecting = gc.isenabled()
        gc.disable()
        try:
            self._loop()
        finally:
            if collecting:
                gc.enable()
        # scheduled: processed, or still on the calendar (at inf); plus tasks falling due
        self.events = self.popped + self.env.pending() + self.dues
        pools = self.pools
        return Records(
            customers=self.cust,
            **self.rw.arrays,
            agents=self.agents,
            busy_s={k: p.busy_s for k, p in pools.items()},
            busy_w={k: p.busy_w for k, p in pools.items()},
            overtime_s={k: p.overtime_s for k, p in pools.items()},
            overtime_w={k: p.overtime_w for k, p in pools.items()},
            waiting_at_end=self._waiting_at_end,
            groups={k: (g if pools[k] in self.in_use else []) for k, g in self.groups.items()},
            edges_s=self.edges,
            horizon_s=self.horizon,
            end_s=self.now,
            events=self.events,
        )

    def _close(self) -> None:
        """The horizon (MODEL.md step 10): arrivals have stopped and nobody takes a new chat.
        Whoever waits in the shop queue now, for a first reply or for a human after a hand-over,
        is never served (``waiting_at_end``); chats already
        held go on to their end (overtime), and the humans on shift now stay for the follow-ups
        and nudges that fall due while the drain lasts."""
        T = self.horizon
        waiting = np.zeros(self.n, dtype=bool)
        for ch in self.q_new:
            if ch.dl > T:
                waiting[ch.cid] = True
        for ch in self.q_esc:
            if ch.k > 0 and ch.dl > T:
                waiting[ch.cid] = True  # handed over, still waiting for a human
                ch.k = 0  # never served: its deadline timer finds it closed
        self._waiting_at_end = waiting
        self.q_new.clear()
        self.q_esc.clear()
        for a in self.agents:
            if a.on_shift:
                a.stays = a.pool.human
                a.pool.leave(a, T)
        if self.progress is not None:
            self.progress(1.0)

    def _report(self, ev: Call) -> None:
        self.progress(self.now / self.horizon)

    def _loop(self) -> None:
        """Merge the pre-drawn, sorted arrivals and the tasks falling due with the clock's
        calendar up to the horizon, then drain: run until nothing is left (chats that began
        before the horizon end; follow-ups and nudges falling due meanwhile are done or expire).

        Arrivals and tasks falling due need no event of their own: each is handled when it
        comes first (on a tie the calendar goes first, then a task, then an arrival). Calendar
        steps run in :meth:`Conversation._steps` (``Clock.step()`` inlined: pop the earliest
        entry, call its callback; an event here never fails and is never reused)."""
        cal = self.cal
        arrival, n = self.arrival, self.n
        i = 0
        t_arr = arrival[0] if n else INF
        stop = self.horizon
        while True:
            t_due = self.t_due
            nxt = t_arr if t_arr < t_due else t_due
            if cal and cal[0] <= nxt and cal[0] < stop:
                self._steps(nxt, stop)
            elif t_arr < t_due and t_arr < stop:
                self.now = t_arr
                self._arrive(i)
                i += 1
                t_arr = arrival[i] if i < n else INF
            elif t_due < stop and t_due <= t_arr:
                self.now = t_due
                self._next_due()
            elif stop < INF:
                self.now = stop
                self._close()
                stop = t_arr = INF
            else:
                self.env._now = self.now
                return  # nothing left (an event at inf never comes, as with env.peek())
