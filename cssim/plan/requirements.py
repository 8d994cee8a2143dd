"""Step 1 of planning: how many heads each planning interval needs, from the exact Erlang-A.

The approximation (stated, then corrected by simulation in :mod:`cssim.plan.correct`):

* A chat holds one of its agent's slots from assignment to its last reply (docs/model.md#conversations).
  So a human pool with concurrency ``c`` is ``c`` parallel *slots* per head, and a slot is busy
  for a chat's *holding time*: ``H = turns x reply_s / speed + (turns - 1) x think_s`` (means;
  seconds). Each slot is one server of an M/M/n+M queue with service rate ``1/H``; a head is
  ``c`` servers. We chose the holding time, not the typing time ``turns x reply_s / speed``, as
  the service time because the slot, not the keyboard, is what a waiting inquiry needs: in
  Semir's world a temp's slot is held ~710 s per chat of which only ~170 s is typing, so
  typing-time servers would understaff about fourfold. What this leaves out: a
  reply waits behind the agent's other replies (typing queue), which lengthens ``H`` and delays
  first replies; the bot; non-exponential patience and chat lengths; carry-over between
  intervals. The simulation-based correction puts all of these back.
* Patience is exponential with the scenario's mean first-reply patience (abandon rate
  ``1/mean``); infinite patience is Erlang-C (a queue that cannot keep up counts as all lost).
* Each interval is treated as stationary at its expected arrival rate (``arrivals`` rates,
  forecast multiplier 1). Under ``bot_first`` the humans see the share the bot does not
  resolve; under ``human_first`` the bot is left out (it only helps, and the correction trims).
* Heads of pools that are not planned, on shift in the interval (working heads, time-averaged),
  count as slots too, converted into the planned pool's slots by service capacity
  ``c / H``. With several planned pools the first is the reference: requirements are in its
  working heads, and a head of another planned pool is worth ``(c / H) / (c_ref / H_ref)`` of them.

In the degenerate case (concurrency 1, one turn, exponential reply and patience, no bot) the
approximation is the exact model, so the starting requirement is the exact Erlang-A staffing.

>>> import cssim
>>> from cssim.plan.requirements import queue_model, starting_requirement
>>> cfg = cssim.load_scenario("erlang_a", ["plan.pools=[ft]"])
>>> int(starting_requirement(queue_model(cfg), 0.03)[5])   # 9.5/min, 1 min service, 2 min patience
12
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

from cssim.analytic import erlang_a
from cssim.arrivals import interval_edges_s, interval_rates
from cssim.config import Config, Dist
from cssim.roster import head_seconds, roster

#: The effective load of an interval is fitted within these multiples of its expected load.
LOAD_RANGE = (1e-4, 1e3)


def dist_mean(d: Dist) -> float:
    """The mean of a configured distribution, in its key's unit."""
    if d.dist == "empirical":
        return float(np.mean(d.values))
    return float(d.mean)


@dataclass(frozen=True)
class PoolService:
    """A human pool as Erlang-A servers: ``concurrency`` slots per head, each held
    ``holding_s`` seconds per chat (mean), of which ``work_s`` is the agent typing."""

    pool: str
    concurrency: int
    holding_s: float
    work_s: float

    @property
    def capacity(self) -> float:
        """Chats a head can carry per second: ``concurrency / holding_s``."""
        return self.concurrency / self.holding_s


def pool_service(cfg: Config, pool: str) -> PoolService:
    """The slot model of one human pool (see the module docstring)."""
    p = getattr(cfg.staffing, pool)
    turns = float(cfg.conversation.turns)
    reply = dist_mean(p.reply_s) / p.speed
    think = dist_mean(cfg.conversation.think_s)
    work = turns * reply
    return PoolService(pool, p.concurrency, work + (turns - 1.0) * think, work)


@dataclass
class QueueModel:
    """One M/M/n+M queue per planning interval, in the reference pool's heads.

    rates: inquiries per second reaching humans in each interval. fixed_slots: slots (reference
    pool equivalents) of the pools that are not planned, on shift in each interval.
    worth: per planned pool, how many reference heads one of its heads is worth.
    """

    ref: PoolService
    worth: dict[str, float]
    rates: np.ndarray
    fixed_slots: np.ndarray
    abandon_rate: float
    lengths_s: np.ndarray

    @property
    def n_intervals(self) -> int:
        return int(self.rates.size)

    def lost_rate(self, i: int, heads: float, load: float = 1.0) -> float:
        """Erlang-A probability of abandonment in interval ``i`` with ``heads`` working heads
        of the reference pool and the interval's rate times ``load``."""
        lam = self.rates[i] * load
        if lam <= 0:
            return 0.0
        n = int(round(self.ref.concurrency * heads + self.fixed_slots[i]))
        if n < 1:
            return 1.0
        try:
            return erlang_a(lam, 1.0 / self.ref.holding_s, self.abandon_rate, n).p_abandon
        except ValueError:  # infinite patience and a queue that cannot keep up
            return 1.0

    def offered_heads(self, i: int, load: float = 1.0) -> float:
        """Heads whose slots equal the interval's offered load (Erlangs): where the queue
        would run at 100% without abandonment."""
        slots = self.rates[i] * load * self.ref.holding_s - self.fixed_slots[i]
        return max(0.0, slots / self.ref.concurrency)

    def _first(self, i: int, ok, load: float, cap: int) -> tuple[int, bool]:
        """The smallest h in 0..cap with ``ok(h)`` for a predicate that is false then true as
        h grows; (cap, False) if ``ok(cap)`` is false. Gallops up from the offered load, then
        bisects, so no evaluation is much larger than the answer."""
        if ok(0):
            return 0, True
        lo, hi = 0, min(cap, max(1, math.ceil(self.offered_heads(i, load))))
        while not ok(hi):
            if hi >= cap:
                return cap, False
            lo, hi = hi, min(cap, 2 * hi)
        while hi - lo > 1:  # ok(hi), not ok(lo)
            mid = (lo + hi) // 2
            if ok(mid):
                hi = mid
            else:
                lo = mid
        return hi, True

    def min_heads(self, i: int, target: float, load: float = 1.0, cap: int = 10**6) -> tuple[int, bool]:
        """The fewest heads (0..cap) with ``lost_rate <= target``, and whether it is reachable
        (False: even ``cap`` heads miss; ``cap`` is returned). The Erlang-A loss falls as
        servers are added, so a search finds it."""
        return self._first(i, lambda h: self.lost_rate(i, h, load) <= target, load, cap)

    def fit_load(self, i: int, heads: float, observed: float) -> float | None:
        """The load multiplier under which the Erlang-A loss at ``heads`` equals an observed
        (simulated) lost rate; None when the observation says nothing (no loss, or no arrivals).
        This is how the correction reads a simulation: everything the queue model leaves out
        (typing queues, the bot, carry-over) shows up as more or less effective load."""
        if self.rates[i] <= 0 or not observed > 0:
            return None
        f = lambda x: self.lost_rate(i, heads, math.exp(x)) - observed  # noqa: E731
        # Bracket the root from load 1 outward in doublings (huge loads make huge chains).
        lo_lim, hi_lim = (math.log(x) for x in LOAD_RANGE)
        a, fa = 0.0, f(0.0)
        step = math.log(2.0) * (1 if fa < 0 else -1)
        while True:
            b = min(hi_lim, max(lo_lim, a + step))
            fb = f(b)
            if (fa < 0) != (fb < 0):
                break
            if b in (lo_lim, hi_lim):
                return math.exp(b)
            a, fa = b, fb
        return math.exp(brentq(f, min(a, b), max(a, b), xtol=1e-4))


def working_heads(cfg: Config, pool: str) -> np.ndarray:
    """Working heads of ``pool`` on shift in each planning interval (time average), as the
    scenario's roster puts them on (:mod:`cssim.roster`)."""
    edges = interval_edges_s(cfg)
    return head_seconds(roster(cfg)[pool], edges) / np.diff(edges)


def queue_model(cfg: Config) -> QueueModel:
    """The Erlang-A model of every planning interval of ``cfg`` for ``cfg.plan.pools``."""
    planned = list(cfg.plan.pools)
    ref = pool_service(cfg, planned[0])
    services = {p: pool_service(cfg, p) for p in ("ft", "temps")}
    worth = {p: services[p].capacity / ref.capacity for p in planned}
    rates = interval_rates(cfg).astype(float)
    r = cfg.routing
    if r.policy == "bot_first" and cfg.staffing.bot.count > 0:
        rates = rates * (1.0 - r.bot_resolve_prob)
    fixed = np.zeros(rates.size)
    for p in ("ft", "temps"):
        if p not in planned and getattr(cfg.staffing, p).count > 0:
            fixed += working_heads(cfg, p) * services[p].capacity / ref.capacity * ref.concurrency
    pat = cfg.customers.patience
    mean_pat = dist_mean(pat)
    theta = 0.0 if math.isinf(mean_pat) else 1.0 / mean_pat
    return QueueModel(ref, worth, rates, fixed, theta, np.diff(interval_edges_s(cfg)))


def starting_requirement(model: QueueModel, target: float, cap: int = 10**6) -> np.ndarray:
    """Per interval, the fewest working heads of the reference pool whose Erlang-A loss is at
    most ``target`` (``cap`` where even that misses)."""
    return np.array([model.min_heads(i, target, cap=cap)[0] for i in range(model.n_intervals)], dtype=np.int64)
