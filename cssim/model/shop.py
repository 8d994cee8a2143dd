"""The shop: builds the world (environment, pools, router, task desk, roster), runs one
replication, and returns its records (docs/model.md#one-inquirys-life).

What happens, when (times are seconds on the clock):

* Customers are drawn before the clock starts (:func:`cssim.model.customers.draw_customers`),
  so every staffing sees the same customers; a chat's per-turn draws come from its block
  (:class:`cssim.model.customers.ChatDraws`) when it is first seated.
* An arrival process starts one :func:`~cssim.model.customer.customer_life` per inquiry.
* At the horizon arrivals stop and nobody takes a new chat; whoever waits then, for a first
  reply or for a human after a hand-over, is never served. The clock runs on until every chat
  that began before the horizon has ended.

Order of events at one instant (docs/model.md#order-of-events): the calendar's events in the order they were
scheduled, then follow-ups and nudges falling due, then arrivals. SimPy orders its calendar by
(instant, priority, scheduling order), so tasks falling due and arrivals carry lower priorities
than the calendar's ``NORMAL`` (:data:`ARRIVAL`, :data:`cssim.model.desk.FOLLOWUP_DUE`); the
horizon goes before anything at its instant. Every wake-up is scheduled in the step that
decides it (a seating schedules the seated customer's next step), at the instant computed.

``extend``: a function ``fn(env, shop)`` called once the shop is built and before the clock
starts, to add SimPy processes (an outage, a supervisor, ...) that act through the shop's
collaborators (``shop.router``, ``shop.roster``, ``shop.pools``, ...).
"""

from __future__ import annotations

from heapq import heappush
from typing import Any, Callable, Generator

import numpy as np
import simpy
from simpy.events import NORMAL

from cssim.arrivals import interval_edges_s
from cssim.config import Config
from cssim.model.customers import BLOCK, ChatDraws, draw_customers
from cssim.model.records import DONE, DROPPED, LOST_HANDOVER, Records
from cssim.model.customer import Chat, Ledger, bot_answers, customer_life, message_reaches
from cssim.model.desk import FOLLOWUP, TaskDesk
from cssim.model.pools import Agent, BotPool, HumanPool, IdleBoard
from cssim.model.roster import Shifts
from cssim.model.router import Router
from cssim.roster import roster
from cssim.streams import make_streams

HORIZON = -1  # priority of the horizon: before anything else at its instant
ARRIVAL = 4  # priority of an arrival: after the calendar (1) and tasks falling due (2, 3)


class ShopEnvironment(simpy.Environment):
    """SimPy's environment, with events at absolute instants (``env.now + delay`` would round
    differently from the instant the model computed)."""

    def at(self, t: float, priority: int = NORMAL, value: Any = None) -> simpy.Event:
        """An event that fires at instant ``t`` (s), ``t >= now``."""
        event = simpy.Event(self)
        event._ok = True
        event._value = value
        heappush(self._queue, (t, priority, next(self._eid), event))  # type: ignore[attr-defined, misc]
        return event

    def trigger_at(self, event: simpy.Event, t: float, value: Any = None) -> None:
        """Schedule the pending ``event`` to fire at instant ``t`` (s), ``t >= now``."""
        event._ok = True
        event._value = value
        heappush(self._queue, (t, NORMAL, next(self._eid), event))  # type: ignore[attr-defined, misc]


class Shop:
    """One replication of one shop's sales peak. Build it, then :meth:`run` it once."""

    def __init__(self, cfg: Config, seed: int, replication: int = 0):
        self.cfg = cfg
        self.env = env = ShopEnvironment()
        streams = make_streams(seed, replication)
        self.horizon_s = cfg.horizon_h * 3600.0
        self.edges_s = interval_edges_s(cfg)
        interval_s, warmup_s = cfg.interval_min * 60.0, cfg.warmup_h * 3600.0
        n_intervals = self.edges_s.size - 1
        self.customers = c = draw_customers(cfg, streams)
        self.records = Ledger(c.n, c.turns)
        self.groups = roster(cfg, self.edges_s)
        r = cfg.routing
        self.bot_resolve_prob = r.bot_resolve_prob
        self.bot_turns_before_handover = r.bot_turns_before_escalation
        tasks_on = cfg.followup.enabled or cfg.nudge.enabled
        self.board = IdleBoard() if tasks_on else None
        self.pools: dict[str, HumanPool | BotPool] = {
            "ft": HumanPool("ft", cfg, n_intervals, interval_s, warmup_s, self.board),
            "temps": HumanPool("temps", cfg, n_intervals, interval_s, warmup_s, self.board),
            "bot": BotPool("bot", cfg, n_intervals, interval_s, warmup_s),
        }
        humans = [p for p in self.pools.values() if isinstance(p, HumanPool) and self.groups[p.name]]
        bot = self.pools["bot"] if self.groups["bot"] and r.policy != "humans_only" else None
        assert bot is None or isinstance(bot, BotPool)
        self.in_use: list[HumanPool | BotPool] = [*humans, *([bot] if bot else [])]
        self.silent = c.silent
        self.router = Router(env, cfg, humans, bot, self.silent, self.seat)
        self.desk = TaskDesk(env, cfg, self.board or IdleBoard(), c, self.records)
        # no bot: nobody is handed over, and the hand-over's extra draws are not made
        self.draws = ChatDraws(cfg, seed, replication, c.turns, escalations=bot is not None)
        self.roster = Shifts(env, self.groups, self.in_use, self.router, self.desk, self.board, self.horizon_s)
        self.waiting_at_end = np.zeros(c.n, dtype=bool)
        env.process(self._arrivals())
        env.at(self.horizon_s, HORIZON).callbacks.append(self._close)

    # ------------------------------------------------------------------ the steps collaborators share
    def seat(self, agent: Agent, chat: Chat) -> None:
        """The chat takes one of the agent's slots now: at a human its pending message joins the
        typing queue, the bot answers its part; either decides the customer's next step."""
        env, pool = self.env, agent.pool
        pool.take_slot(agent)
        chat.agent = agent
        if chat.draws is None:
            chat.bind(self.draws.block(chat.cid // BLOCK))
            self.records.assigned[chat.cid] = env.now
        self.records.last_agent[chat.cid] = agent.id
        if isinstance(pool, HumanPool):
            message_reaches(env, chat, agent, bool(self.silent[chat.cid]))
            if agent.open < pool.concurrency:
                pool.file(agent, env.now)
        else:
            resolves = bool(self.customers.u_bot[chat.cid] < self.bot_resolve_prob)
            bot_answers(env, chat, agent, resolves, self.bot_turns_before_handover, self.records)

    def release(self, agent: Agent) -> None:
        """A chat of the agent ended: its slot frees and takes the next customer waiting."""
        agent.pool.free_slot(agent, self.env.now)
        self.router.fill(agent)

    def leave_bot(self, bot: Agent) -> None:
        """The bot lets a handed-over chat go."""
        self.release(bot)

    def close(self, chat: Chat, how: int) -> None:
        """The chat ends now (``DONE``, ``ABANDONED``, ``DROPPED``): the records, the funnel,
        and the slot it held."""
        cid, now, rec, desk = chat.cid, self.env.now, self.records, self.desk
        agent = chat.agent
        chat.agent = None
        if how == DONE:
            assert agent is not None
            rec.end_pool[cid] = agent.pool.code
        rec.end[cid] = how
        rec.end_t[cid] = now
        rec.resp_sum[cid] = chat.resp_sum
        rec.resp_n[cid] = chat.resp_n
        rec.turn[cid] = chat.turn
        rec.turns[cid] = chat.turns
        chat.closed = True
        chat.draws = None
        presale = self.customers.presale[cid]
        if how == DONE and presale:
            assert agent is not None
            p = desk.order_probability(agent.pool.conversion, chat.resp_sum / chat.resp_n)
            if self.customers.u_order[cid] < p:
                desk.place_order(cid)
            elif desk.followups_on:
                desk.later(FOLLOWUP, cid)
        elif how in (DROPPED, LOST_HANDOVER) and presale and desk.followups_on and desk.followup_drops:
            desk.later(FOLLOWUP, cid)
        if agent is not None:
            self.release(agent)

    # ------------------------------------------------------------------ the clock
    def _arrivals(self) -> Generator[simpy.Event, object, None]:
        for cid, t in enumerate(self.customers.arrival.tolist()):
            if t >= self.horizon_s:
                return
            yield self.env.at(t, ARRIVAL)
            self.env.process(customer_life(self, cid))

    def _close(self, _: simpy.Event) -> None:
        """The horizon: arrivals have stopped, nobody takes a new chat; whoever waits in the
        shop queue, for a first reply or for a human after a hand-over, is never served."""
        horizon = self.horizon_s
        for chat in self.router.new:
            if chat.deadline > horizon:
                self.waiting_at_end[chat.cid] = True
        for chat in self.router.handovers:
            if not chat.closed and chat.deadline > horizon:
                self.waiting_at_end[chat.cid] = True
                chat.closed = True  # withdrawn unserved: no record of an end
        self.router.new.clear()
        self.router.handovers.clear()
        self.roster.close()

    def run(self, extend: Callable[[simpy.Environment, "Shop"], None] | None = None) -> Records:
        """Run from 0 to the horizon and through the drain; return the records."""
        if extend is not None:
            extend(self.env, self)
        self.env.run()
        return Records(
            customers=self.customers,
            **self.records.arrays,
            agents=self.roster.agents,
            busy_s={k: p.busy_s for k, p in self.pools.items()},
            busy_w={k: p.busy_w for k, p in self.pools.items()},
            overtime_s={k: p.overtime_s for k, p in self.pools.items()},
            overtime_w={k: p.overtime_w for k, p in self.pools.items()},
            waiting_at_end=self.waiting_at_end,
            groups={k: (g if self.pools[k] in self.in_use else []) for k, g in self.groups.items()},
            edges_s=self.edges_s,
            horizon_s=self.horizon_s,
            end_s=float(self.env.now),
            events=0,
        )
