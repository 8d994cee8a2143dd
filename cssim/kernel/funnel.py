"""The funnel: orders, payment, follow-ups and payment nudges (docs/model.md#funnel, docs/model.md#follow-ups, docs/model.md#nudges).

* A presale chat that ends normally places an order with probability
  ``order_prob x pool conversion x delay factor`` (the delay factor decays with the chat's mean
  response time, s, past ``delay_effect.ref_s``). An order is paid at once with ``pay_now_prob``.
* A presale chat that ends without an order (and, with ``followup.include_drops``, a mid-chat
  drop) becomes a follow-up task ``followup.after_min`` minutes later; an unpaid order of a
  new customer becomes a nudge task ``nudge.after_min`` minutes later (never twice).
* A task is one reply of human work, taken only by an on-shift human with nothing to type
  (lower priority than live chats), oldest first from one FIFO; a task not started within its
  window (``window_min``) has expired and counts as not done. A done follow-up converts with
  ``followup.conversion_prob``; a nudged order pays with ``nudged_pay_prob`` (read by the metrics).
* Idle humans are found through ``idle_heap``: humans by a lower bound of when their typing
  queue empties (s), each at most once, re-keyed in place when found at the top still typing.
* A follow-up falls due a fixed time after the chat ends, a nudge a fixed time after the order:
  each kind's due times come in the order they were set, so each waits in a FIFO (``due``), not
  on the calendar; the simulation's loop takes the earliest front (:meth:`Sales._next_due`).
"""

from __future__ import annotations

import math
from collections import deque
from heapq import heappop, heappush, heapreplace
from typing import TYPE_CHECKING

from cssim.kernel.pools import READY, Agent
from cssim.model.records import PAID_NOW, UNPAID, UNPAID_NUDGED

if TYPE_CHECKING:
    from cssim.kernel.simulation import Call

FOLLOWUP, NUDGE = 0, 1  # task kinds


class Sales:
    """Mixed into the simulation: order placement and the task queue of follow-ups and nudges."""

    def _init_funnel(self) -> None:
        cfg = self.cfg
        f = cfg.funnel
        self.order_prob = f.order_prob
        self.pay_now_prob = f.pay_now_prob
        d = f.delay_effect
        self.delay_kind, self.delay_ref, self.delay_scale = d.kind, d.ref_s, d.scale_s
        self.followup_on = cfg.followup.enabled
        self.followup_after = cfg.followup.after_min * 60.0
        self.followup_window = cfg.followup.window_min * 60.0
        self.followup_drops = cfg.followup.include_drops
        self.followup_prob = cfg.followup.conversion_prob
        self.nudge_on = cfg.nudge.enabled
        self.nudge_after = cfg.nudge.after_min * 60.0
        self.nudge_window = cfg.nudge.window_min * 60.0
        self.tasks_on = self.followup_on or self.nudge_on
        self.tasks: deque[tuple[int, int, float]] = deque()  # (kind, customer, expires)
        # Tasks not yet due, per kind: (due instant, customer), due instants non-decreasing.
        self.due: tuple[deque[tuple[float, int]], deque[tuple[float, int]]] = (deque(), deque())
        self.t_due = math.inf  # the earliest due instant of either FIFO
        self.dues = 0  # tasks that fell due (counted with the events)
        # Humans by (lower bound of) the instant their typing queue empties: the first with a
        # key <= now and nothing queued is idle. Each agent is in it at most once; a key is
        # refreshed when it reaches the top (heapreplace). Only kept when follow-ups or nudges are on.
        self.idle_heap: list[tuple[float, int, Agent]] = []
        self.task_wake_pending = False

    def _delay_factor(self, r: float) -> float:
        """How the chat's mean response time ``r`` (s) scales the order probability."""
        excess = r - self.delay_ref
        if self.delay_kind == "none" or excess <= 0:
            return 1.0
        if self.delay_kind == "exponential":
            return math.exp(-excess / self.delay_scale)
        return max(0.0, 1.0 - excess / self.delay_scale)

    def _place_order(self, cid: int) -> None:
        rw = self.rw
        rw.order_t[cid] = self.now
        if self.u_pay_now[cid] < self.pay_now_prob:
            rw.order[cid] = PAID_NOW
            return
        rw.order[cid] = UNPAID
        if self.nudge_on and not self.returning[cid]:
            self._later(NUDGE, self.now + self.nudge_after, cid)

    def _followup_later(self, cid: int) -> None:
        self._later(FOLLOWUP, self.now + self.followup_after, cid)

    def _later(self, kind: int, t: float, cid: int) -> None:
        """A task of ``kind`` for customer ``cid`` falls due at ``t`` (s)."""
        self.due[kind].append((t, cid))
        if t < self.t_due:
            self.t_due = t

    def _next_due(self) -> None:
        """The earliest task due (at ``self.now == self.t_due``; follow-ups first on a tie)
        joins the task queue, and idle humans take tasks."""
        fu, nu = self.due
        q = fu if fu and (not nu or fu[0][0] <= nu[0][0]) else nu
        _, cid = q.popleft()
        kind = FOLLOWUP if q is fu else NUDGE
        self.t_due = min(fu[0][0] if fu else math.inf, nu[0][0] if nu else math.inf)
        self.dues += 1
        window = self.followup_window if kind == FOLLOWUP else self.nudge_window
        self.tasks.append((kind, cid, self.now + window))
        self._work_tasks()

    # ---------------------------------------------------------------- follow-ups and nudges
    def _track(self, agent: Agent) -> None:
        agent.in_heap = True
        heappush(self.idle_heap, (agent.busy_until, agent.id, agent))

    def _idle_agent(self) -> Agent | None:
        """An on-shift human with nothing to type now, or None (the heap orders agents by a
        lower bound of when they became free, so usually, not always, the one idle longest)."""
        now = self.now
        heap = self.idle_heap
        while heap and heap[0][0] <= now:
            a = heap[0][2]
            if not a.on_shift and not a.stays:
                heappop(heap)
                a.in_heap = False
                continue  # gone home; finishing chats needs no tasks
            if a.busy_until <= now:
                heappop(heap)
                a.in_heap = False
                return a
            # got more work since: re-key it in place (one entry per agent, unique by
            # (key, id): the pop order does not depend on the heap's layout)
            heapreplace(heap, (a.busy_until, a.id, a))
        return None

    def _task_wake(self, ev: Call) -> None:
        self.task_wake_pending = False
        self._work_tasks()

    def _work_tasks(self) -> None:
        """Idle humans take waiting tasks, oldest first, skipping expired ones; if tasks are
        left, look again when the next human may be free."""
        now = self.now
        tasks = self.tasks
        while tasks:
            if tasks[0][2] < now:
                tasks.popleft()  # expired: counts as not done
                continue
            agent = self._idle_agent()
            if agent is None:
                break
            kind, cid, _ = tasks.popleft()
            self._do_task(agent, kind, cid)
        if tasks and not self.task_wake_pending and self.idle_heap:
            self.task_wake_pending = True
            self._at(max(self.idle_heap[0][0], now), self._task_wake, None)

    def _do_task(self, agent: Agent, kind: int, cid: int) -> None:
        now = self.now
        pool = agent.pool
        done = now + self.task_reply[pool.code][kind][cid]
        agent.busy_until = done
        if agent.where == READY:
            pool.typing(agent)
        self._busy(agent, now, done)
        self._track(agent)
        if kind == FOLLOWUP:
            self.rw.followup_done[cid] = True
            if self.u_followup[cid] < self.followup_prob:
                self.rw.followup_order[cid] = True
                self._place_order(cid)
        else:
            self.rw.order[cid] = UNPAID_NUDGED
