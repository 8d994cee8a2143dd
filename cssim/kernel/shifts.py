"""ShiftChanges: who is on when, and how busy time is booked (docs/model.md#shifts).

The roster (:func:`cssim.roster.roster`) gives each pool's shift groups and, per group, the
working head count over time (paid heads x (1 - shrinkage), rounded once per pool and interval).
At each change, at an absolute instant (s), :meth:`ShiftChanges._set_working` puts a group's first
``working`` agents on shift; the others take no new chats but finish those they hold. Agents
that come on shift take waiting customers and tasks at once.

Busy time (:meth:`ShiftChanges._busy`): a human's typing seconds, a bot's open-chat seconds, booked
per planning interval and after the warm-up; the part after the agent stopped taking chats
(its shift end, or the horizon) is overtime, reported apart from utilization.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cssim.kernel.pools import Agent
from cssim.roster import roster

if TYPE_CHECKING:
    from cssim.kernel.simulation import Call


class ShiftChanges:
    """Mixed into the simulation: ``groups`` (pool name -> roster groups), ``agents`` (all agents
    in use, built by :meth:`_staff`), and the shift changes on the clock."""

    def _init_shifts(self) -> None:
        self.groups = roster(self.cfg, self.edges)

    def _staff(self) -> None:
        """Create every pool's agents and schedule each group's head-count changes (absolute
        instants before the horizon; a group's shift end sends everyone home)."""
        in_use = self.humans + ([self.bot] if self.bot else [])
        self.in_use = in_use
        self.agents: list[Agent] = []
        for pool in in_use:
            for g in self.groups[pool.name]:
                agents = [Agent(pool, len(self.agents) + i, g.end_s) for i in range(g.working)]
                self.agents += agents
                for a, _, working in g.spans:
                    if a < self.horizon:
                        self._at(a, self._set_working, (agents, working))
                if g.end_s < self.horizon:
                    self._at(g.end_s, self._set_working, (agents, 0))

    def _set_working(self, ev: Call) -> None:
        """A group's working head count changes (shift start or end, or shrinkage rounding):
        its first ``working`` agents are on shift, the others leave after their chats."""
        agents, working = ev.value
        now = self.now
        joined = False
        for i, a in enumerate(agents):
            if i < working:
                if not a.on_shift:
                    a.pool.join(a, now)
                    joined = True
                    if self.tasks_on and a.pool.human and not a.in_heap:
                        self._track(a)
            elif a.on_shift:
                a.pool.leave(a, now)
        if joined:
            self._drain_queue()
            if self.tasks:
                self._work_tasks()

    def _busy(self, agent: Agent, t0: float, t1: float) -> None:
        """Add the agent's busy span [t0, t1) to its pool's per-interval busy seconds (and to
        the after-warm-up total); the part after the agent stopped taking chats (shift end,
        the horizon) is overtime instead."""
        pool = agent.pool
        w = self.warmup
        off = agent.off_s
        if t1 > off:
            lo = t0 if t0 > off else off
            pool.overtime_s += t1 - lo
            if t1 > w:
                pool.overtime_w += t1 - (lo if lo > w else w)
            t1 = off
        if t0 >= t1:
            return
        if t1 > w:
            pool.busy_w += t1 - (t0 if t0 > w else w)
        acc = pool.busy_s
        ilen = self.ilen
        b = int(t0 // ilen)
        e = (b + 1) * ilen
        while t1 > e:
            acc[b] += e - t0
            t0 = e
            b += 1
            e += ilen
        acc[b] += t1 - t0

