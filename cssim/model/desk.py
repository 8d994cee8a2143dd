"""The task desk: orders and payment, follow-ups and payment nudges (docs/model.md#funnel, docs/model.md#follow-ups, docs/model.md#nudges).

* A presale chat that ends normally places an order with probability
  ``order_prob x pool conversion x delay factor``; an order is paid at once with
  ``pay_now_prob``.
* A presale chat that ends without an order (and, with ``followup.include_drops``, a mid-chat
  drop) becomes a follow-up ``followup.after_min`` later; an unpaid order of a new customer a
  nudge ``nudge.after_min`` later. Each task is a SimPy process that sleeps until it falls due.
* A task is one reply of human work, taken only by an on-shift human with nothing to type, oldest
  first from one FIFO; a task not started within its window has expired (not done).
* Who is free is read from the :class:`~cssim.model.pools.IdleBoard`: humans by the instant their typing queue was
  due to empty when they were put on it (a lower bound, refreshed when it reaches the top), then
  agent id. With tasks waiting and nobody free, the desk looks again at the board's earliest
  instant.

Same-instant order (docs/model.md#order-of-events): the calendar's own events first, then tasks
falling due (follow-ups before nudges), then arrivals: a task's due event has priority
:data:`FOLLOWUP_DUE` or :data:`NUDGE_DUE`.
"""

from __future__ import annotations

import math
from collections import deque
from typing import TYPE_CHECKING, Generator

import numpy as np
import simpy

from cssim.config import Config
from cssim.model.customers import CustomerDraws
from cssim.model.customer import Ledger
from cssim.model.records import PAID_NOW, UNPAID, UNPAID_NUDGED
from cssim.model.pools import Agent, HumanPool, IdleBoard

if TYPE_CHECKING:
    from cssim.model.shop import ShopEnvironment

FOLLOWUP, NUDGE = 0, 1  # task kinds
FOLLOWUP_DUE, NUDGE_DUE = 2, 3  # event priorities: after the calendar's NORMAL (1), before arrivals


class TaskDesk:
    """Follow-ups and nudges: when they fall due, who does them, and what they achieve."""

    def __init__(self, env: "ShopEnvironment", cfg: Config, board: IdleBoard, customers: CustomerDraws,
                 records: Ledger):
        self.env = env
        self.board = board
        self.task_reply = customers.task_reply  # (human pool, kind, customer) -> s
        self.u_followup = customers.u_followup
        self.u_pay_now = customers.u_pay_now
        self.returning = customers.returning
        self.records = records
        f = cfg.funnel
        self.order_prob = f.order_prob
        self.pay_now_prob = f.pay_now_prob
        d = f.delay_effect
        self.delay_kind, self.delay_ref, self.delay_scale = d.kind, d.ref_s, d.scale_s
        fu, nu = cfg.followup, cfg.nudge
        self.followups_on = fu.enabled
        self.followup_drops = fu.include_drops
        self.followup_prob = fu.conversion_prob
        self.nudges_on = nu.enabled
        self.after_s = (fu.after_min * 60.0, nu.after_min * 60.0)
        self.window_s = (fu.window_min * 60.0, nu.window_min * 60.0)
        self.on = self.followups_on or self.nudges_on
        self.waiting: deque[tuple[int, int, float]] = deque()  # (kind, customer, expires at)
        self.look_pending = False
        self.fell_due = 0

    # ------------------------------------------------------------------ orders
    def order_probability(self, pool_conversion: float, mean_response_s: float) -> float:
        """The chance that a presale chat ending normally places an order."""
        return self.order_prob * pool_conversion * self.delay_factor(mean_response_s)

    def delay_factor(self, mean_response_s: float) -> float:
        """How the chat's mean response time (s) scales the order probability."""
        excess = mean_response_s - self.delay_ref
        if self.delay_kind == "none" or excess <= 0:
            return 1.0
        if self.delay_kind == "exponential":
            return math.exp(-excess / self.delay_scale)
        return max(0.0, 1.0 - excess / self.delay_scale)

    def place_order(self, cid: int) -> None:
        """Customer ``cid`` places an order now: paid at once, or unpaid (a nudge later)."""
        self.records.order_t[cid] = self.env.now
        if self.u_pay_now[cid] < self.pay_now_prob:
            self.records.order[cid] = PAID_NOW
            return
        self.records.order[cid] = UNPAID
        if self.nudges_on and not self.returning[cid]:
            self.later(NUDGE, cid)

    # ------------------------------------------------------------------ tasks
    def later(self, kind: int, cid: int) -> None:
        """A task of ``kind`` for customer ``cid`` falls due ``after`` from now."""
        env = self.env
        self.env.process(self._falls_due(kind, cid, env.now + self.after_s[kind]))

    def _falls_due(self, kind: int, cid: int, due: float) -> Generator[simpy.Event, object, None]:
        yield self.env.at(due, FOLLOWUP_DUE if kind == FOLLOWUP else NUDGE_DUE)
        self.fell_due += 1
        self.waiting.append((kind, cid, self.env.now + self.window_s[kind]))
        self.work()

    def work(self) -> None:
        """Free humans take waiting tasks, oldest first, skipping expired ones; if tasks are
        left, look again when the board's next human may be free."""
        now = self.env.now
        waiting = self.waiting
        while waiting:
            if waiting[0][2] < now:
                waiting.popleft()  # expired: not done
                continue
            agent = self.board.free_agent(now)
            if agent is None:
                break
            kind, cid, _ = waiting.popleft()
            self._do(agent, kind, cid)
        earliest = self.board.earliest()
        if waiting and not self.look_pending and earliest is not None:
            self.look_pending = True
            self.env.at(max(earliest, now)).callbacks.append(self._look_again)

    def _look_again(self, _: simpy.Event) -> None:
        self.look_pending = False
        self.work()

    def _do(self, agent: Agent, kind: int, cid: int) -> None:
        """The agent types the task's one reply now."""
        pool = agent.pool
        assert isinstance(pool, HumanPool)
        pool.type_at(agent, self.env.now, self.task_reply[pool.code][kind][cid])
        if kind == FOLLOWUP:
            self.records.followup_done[cid] = True
            if self.u_followup[cid] < self.followup_prob:
                self.records.followup_order[cid] = True
                self.place_order(cid)
        else:
            self.records.order[cid] = UNPAID_NUDGED
