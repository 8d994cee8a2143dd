"""Who is on when (docs/model.md#shifts): each pool's shift groups and their working head counts.

The roster is known before the day starts (:func:`cssim.roster.roster`: paid heads x
(1 - shrinkage), rounded once per pool and interval), so every head-count change goes on the
calendar at time 0, in roster order: changes at the same instant apply in that order. At a
change, a group's first ``working`` agents are on shift; the others take no new chats and finish
those they hold (overtime). Agents who come on shift take waiting customers and tasks at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import simpy

from cssim.model.desk import TaskDesk
from cssim.model.pools import Agent, BotPool, HumanPool, IdleBoard
from cssim.model.router import Router
from cssim.roster import Group

if TYPE_CHECKING:
    from cssim.model.shop import ShopEnvironment


class Shifts:
    """Creates the agents of the pools in use and puts them on and off shift."""

    def __init__(self, env: "ShopEnvironment", groups: dict[str, list[Group]],
                 pools: list[HumanPool | BotPool], router: Router, desk: TaskDesk,
                 board: IdleBoard | None, horizon_s: float):
        self.env = env
        self.groups = groups  # pool name -> shift groups; call-ins add theirs (the metrics read them)
        self.pools = {p.name: p for p in pools}
        self.router = router
        self.desk = desk
        self.board = board
        self.horizon_s = horizon_s
        self.agents: list[Agent] = []  # every agent, indexed by Agent.id
        for pool in pools:
            for g in groups[pool.name]:
                agents = [Agent(pool, len(self.agents) + i, g.end_s) for i in range(g.working)]
                self.agents += agents
                for start, _, working in g.spans:
                    if start < horizon_s:
                        self._change_at(start, agents, working)
                if g.end_s < horizon_s:
                    self._change_at(g.end_s, agents, 0)

    def _change_at(self, t: float, agents: list[Agent], working: int) -> None:
        def change(_: simpy.Event) -> None:
            self.set_working(agents, working)

        self.env.at(t).callbacks.append(change)

    def set_working(self, agents: list[Agent], working: int) -> None:
        """A group's working head count becomes ``working`` now."""
        now = self.env.now
        joined = False
        for i, a in enumerate(agents):
            if i < working:
                if not a.on_shift:
                    a.pool.join(a, now)
                    joined = True
                    if self.board is not None and a.pool.human:
                        self.board.track(a)
            elif a.on_shift:
                a.pool.leave(a, now)
        if joined:
            self.router.drain()
            if self.desk.waiting:
                self.desk.work()

    def call_in(self, pool: str, count: int, until_s: float) -> list[Agent]:
        """``count`` extra agents of ``pool`` come on shift now until ``until_s`` (s), paid for
        that span like a rostered group, and take waiting customers at once."""
        if pool not in self.pools or not self.pools[pool].human:
            raise ValueError(f"call_in: pool {pool!r} is not a human pool in use ({sorted(p for p, q in self.pools.items() if q.human)})")
        now = self.env.now
        home = self.pools[pool]
        agents = [Agent(home, len(self.agents) + i, until_s) for i in range(count)]
        self.agents += agents
        self.groups[pool].append(Group(pool, now, until_s, count, ((now, until_s, count),)))
        self.set_working(agents, count)
        if until_s < self.horizon_s:
            self._change_at(until_s, agents, 0)
        return agents

    def close(self) -> None:
        """The horizon: everyone on shift stops taking chats (finishing those they hold is
        overtime); the humans among them stay for follow-ups and nudges during the drain."""
        now = self.env.now
        for a in self.agents:
            if a.on_shift:
                a.stays = a.pool.human
                a.pool.leave(a, now)
