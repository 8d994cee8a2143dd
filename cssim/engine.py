"""The simulation core: one sales peak at one shop, on a SimPy clock in seconds.

Design (what makes a full Double 11 day cheap):

* No process per customer and no timer per patience. Customers are rows of arrays drawn up
  front (``Customers``); SimPy timeouts carry a customer id to a callback.
* A human agent types one reply at a time, FIFO. So when a customer's message
  reaches an agent, the instant its reply will *start* is already known: the agent's
  ``busy_until``. Abandonment (judged at reply start) is then decided on the spot and exactly:
  a customer whose reply would start after its deadline has left at the deadline. A visible
  abandoner closes the chat at the deadline (one event, only for those who leave); a silent one
  still costs the reply's typing time.
* Customers waiting for a free slot sit in the shop's FIFO deques with absolute deadlines and are
  dropped lazily when reached; a FIFO abandoner is never served, so this is exact.
* The bot replies to all its chats in parallel and never makes anyone wait, so a bot chat is
  computed whole when it is assigned: one event at its end (or at the hand-over to a human).
* Follow-ups and payment nudges are one reply of human work each, taken only by an agent with no
  live reply waiting (lower priority), from one FIFO that expires tasks lazily.

The engine records per-customer facts; :mod:`cssim.metrics` turns them into KPIs.
"""

from __future__ import annotations

import math
from collections import deque
from heapq import heappop, heappush, heapreplace
from dataclasses import dataclass
from typing import Callable

import numpy as np
import simpy

from cssim.arrivals import arrival_times, forecast_multiplier, interval_edges_s
from cssim.config import Config
from cssim.roster import roster
from cssim.streams import BlockSampler, draw, make_streams
from simpy.events import NORMAL

INF = math.inf
FT, TEMPS, BOT = 0, 1, 2
POOL_CODES = {"ft": FT, "temps": TEMPS, "bot": BOT}

# How a chat ended (``Records.end``).
OPEN, DONE, ABANDONED, DROPPED = 0, 1, 2, 3
# Order state (``Records.order``).
NO_ORDER, PAID_NOW, UNPAID, UNPAID_NUDGED = 0, 1, 2, 3
FOLLOWUP, NUDGE = 0, 1
# Where the routing files a human (``Agent.where``).
NOWHERE, READY, BUSY = 0, 1, 2


@dataclass
class Customers:
    """Every customer of one replication, drawn before the clock starts (independent of
    staffing). Times in seconds. ``think``/``midpat`` are flat arrays; customer ``c``'s entry
    for the gap after its reply ``k`` (1-based) is at ``offset[c] + k - 1``."""

    arrival: np.ndarray
    presale: np.ndarray
    returning: np.ndarray
    silent: np.ndarray
    patience: np.ndarray
    turns: np.ndarray
    offset: np.ndarray
    think: np.ndarray
    midpat: np.ndarray
    u_order: np.ndarray
    u_pay_now: np.ndarray
    u_pay_later: np.ndarray
    u_followup: np.ndarray
    u_bot: np.ndarray
    order_value: np.ndarray
    multiplier: float

    @property
    def n(self) -> int:
        return int(self.arrival.size)


def _gap_values(
    base: np.ndarray, extra_cols: list[np.ndarray], base_n: np.ndarray, need: np.ndarray, offset: np.ndarray
) -> np.ndarray:
    """Flat per-gap values: customer ``c``'s ``need[c]`` gaps start at ``offset[c]``; the first
    ``base_n[c]`` come from ``base`` (in customer order), the rest from the extra columns."""
    out = np.empty(int(need.sum()))
    base_off = np.concatenate([[0], np.cumsum(base_n)[:-1]]).astype(np.int64)
    out[np.repeat(offset - base_off, base_n) + np.arange(int(base_n.sum()))] = base
    for j, col in enumerate(extra_cols):
        m = need - base_n > j
        out[offset[m] + base_n[m] + j] = col[m]
    return out


def draw_customers(cfg: Config, streams: dict[str, np.random.Generator]) -> Customers:
    """All customers' arrival instants and attributes, each purpose from its own stream.

    Every draw is independent of staffing and routing (common random numbers across a sweep):
    a chat's own gaps (turns - 1 think times and mid-chat patiences) come first; an escalated
    chat that the hand-over makes longer than drawn takes its extra gaps from separate streams,
    drawn column by column (extra gap j of every customer), so customer ``c``'s values do not
    move when ``routing.bot_turns_before_escalation`` does."""
    mult = forecast_multiplier(cfg, streams["forecast"])
    arrival = arrival_times(cfg, streams["arrivals"], mult)
    n = arrival.size
    c = cfg.customers
    u = streams["attributes"].random((3, n))
    conv = cfg.conversation
    rt = streams["turns"]
    if conv.turns_dist == "constant":
        turns = np.full(n, int(conv.turns), dtype=np.int64)
    elif conv.turns_dist == "geometric":
        turns = rt.geometric(1.0 / conv.turns, n).astype(np.int64)  # support 1, 2, ...; mean = turns
    else:
        turns = 1 + rt.poisson(conv.turns - 1.0, n).astype(np.int64)
    base_n = turns - 1
    # An escalated chat has at least escalate_at gaps: the hand-over message follows the bot's
    # last reply, and the human answers at least that one more turn.
    escalate_at = cfg.routing.bot_turns_before_escalation
    need = np.maximum(base_n, escalate_at)
    offset = np.concatenate([[0], np.cumsum(need)[:-1]]).astype(np.int64) if n else np.zeros(0, np.int64)
    n_extra = int((need - base_n).max()) if n else 0
    think = _gap_values(
        draw(conv.think_s, streams["think"], int(base_n.sum())),
        [draw(conv.think_s, streams["think_extra"], n) for _ in range(n_extra)],
        base_n, need, offset,
    )
    if c.midchat_per_turn:
        midpat = _gap_values(
            draw(c.midchat_patience, streams["midchat"], int(base_n.sum())),
            [draw(c.midchat_patience, streams["midchat_extra"], n) for _ in range(n_extra)],
            base_n, need, offset,
        )
    else:
        midpat = np.repeat(draw(c.midchat_patience, streams["midchat"], n), need)
    f = streams["funnel"]
    uf = f.random((5, n))
    return Customers(
        arrival=arrival,
        presale=u[0] < c.presale_share,
        returning=u[1] < c.returning_share,
        silent=u[2] < c.silent_share,
        patience=draw(c.patience, streams["patience"], n),
        turns=turns,
        offset=offset,
        think=think,
        midpat=midpat,
        u_order=uf[0],
        u_pay_now=uf[1],
        u_pay_later=uf[2],
        u_followup=uf[3],
        u_bot=uf[4],
        order_value=draw(cfg.funnel.order_value, f, n),
        multiplier=mult,
    )


class Call:
    """A bare SimPy event that calls one callback with a payload: what every step of this
    model is (SimPy's ``step`` reads only ``callbacks`` and ``_ok``)."""

    __slots__ = ("callbacks", "value")
    _ok = True

    def __init__(self, callback: Callable[["Call"], None], payload: object):
        self.callbacks = (callback,)
        self.value = payload


class Agent:
    """One server: a person, or one bot instance. ``open``: chats held (slots in use);
    ``busy_until``: when its typing queue empties (humans). ``where``: where the routing keeps
    it (``NOWHERE`` when it has no free slot or is off shift, ``READY`` idle with a free slot,
    ``BUSY`` typing with a free slot); ``seq`` tells its live entry in the busy heap."""

    __slots__ = ("pool", "id", "open", "busy_until", "on_shift", "in_heap", "off_s", "end_s", "where", "seq", "stays")

    def __init__(self, pool: "HumanPool | BotPool", ident: int, end_s: float):
        self.pool = pool
        self.id = ident  # breaks ties in the heaps deterministically
        self.end_s = end_s  # the group's shift end
        self.off_s = end_s  # when it stopped taking chats: work after it is overtime, not utilization
        self.open = 0
        self.busy_until = 0.0
        self.on_shift = False
        self.in_heap = False
        self.where = NOWHERE
        self.seq = 0
        self.stays = False  # on shift at the horizon: does follow-ups and nudges in the drain


class _Pool:
    """What every pool has: its reply-time sampler and its busy-time accounts."""

    def __init__(self, name: str, cfg: Config, rng: np.random.Generator, nbins: int):
        p = getattr(cfg.staffing, name)
        self.name = name
        self.code = POOL_CODES[name]
        self.concurrency = p.concurrency
        self.conversion = p.conversion
        self.reply = BlockSampler(p.reply_s, rng, scale=1.0 / p.speed)
        self.busy_s = [0.0] * nbins  # typing seconds (humans) or open-chat seconds (bot) per interval
        self.busy_w = 0.0  # the same, after the warm-up (whatever the interval edges)
        self.overtime_s = 0.0  # busy seconds after the agent stopped taking chats (finishing them)
        self.overtime_w = 0.0  # the same, after the warm-up


class HumanPool(_Pool):
    """On-shift humans of one pool with a free slot, kept so that the one who can *start* a
    reply soonest is found without scanning agents (MODEL.md step 2).

    ``ready[k]``: idle agents (typing queue empty) with ``k`` open chats, an insertion-ordered
    dict used as an ordered set; ``low`` is the lowest non-empty ``k`` (``concurrency`` if none).
    ``heap``: agents still typing, by when their typing queue empties. A heap key is a lower
    bound, refreshed when it reaches the top (replies queued meanwhile only push it later), so
    queuing a reply costs nothing here; entries of agents that moved are skipped by ``seq``.
    An agent becomes idle with no event: :meth:`promote` moves agents whose key has passed.
    """

    human = True

    def __init__(self, name: str, cfg: Config, rng: np.random.Generator, nbins: int):
        super().__init__(name, cfg, rng, nbins)
        self.ready: list[dict[Agent, None]] = [{} for _ in range(self.concurrency)]
        self.low = self.concurrency
        self.heap: list[tuple[float, int, Agent]] = []
        self.seq = 0

    def _unready(self, agent: Agent) -> None:
        k = agent.open
        bucket = self.ready[k]
        del bucket[agent]
        if not bucket and k == self.low:
            low, ready, conc = k + 1, self.ready, self.concurrency
            while low < conc and not ready[low]:
                low += 1
            self.low = low

    def place(self, agent: Agent, now: float) -> None:
        """File an on-shift agent with a free slot as idle or typing."""
        if agent.busy_until <= now:
            k = agent.open
            self.ready[k][agent] = None
            agent.where = READY
            if k < self.low:
                self.low = k
        else:
            agent.where = BUSY
            self.seq += 1
            agent.seq = self.seq
            heappush(self.heap, (agent.busy_until, self.seq, agent))

    def typing(self, agent: Agent) -> None:
        """The agent's typing queue just grew: an idle agent becomes a typing one."""
        if agent.where == READY:
            self._unready(agent)
            agent.where = BUSY
            self.seq += 1
            agent.seq = self.seq
            heappush(self.heap, (agent.busy_until, self.seq, agent))

    def promote(self, now: float) -> None:
        """Agents whose typing queue has emptied by ``now`` become idle."""
        heap = self.heap
        while heap and heap[0][0] <= now:
            _, s, a = heappop(heap)
            if a.where != BUSY or a.seq != s:
                continue  # stale entry
            if a.busy_until <= now:
                k = a.open
                self.ready[k][a] = None
                a.where = READY
                if k < self.low:
                    self.low = k
            else:
                heappush(heap, (a.busy_until, s, a))

    def soonest(self) -> Agent | None:
        """The typing agent (with a free slot) whose queue empties first (call after promote)."""
        heap = self.heap
        while heap:
            key, s, a = heap[0]
            if a.where != BUSY or a.seq != s:
                heappop(heap)
            elif key < a.busy_until:
                heapreplace(heap, (a.busy_until, s, a))
            else:
                return a
        return None

    def occupy(self, agent: Agent) -> None:
        """The agent takes one more chat; the caller files it again (:meth:`place`) once the
        chat's first reply is queued, if a slot is still free."""
        if agent.where == READY:
            self._unready(agent)
        agent.where = NOWHERE
        agent.open += 1

    def vacate(self, agent: Agent, now: float) -> None:
        """A chat of the agent ended."""
        k = agent.open
        agent.open = k - 1
        if not agent.on_shift:
            return
        w = agent.where
        if w == READY:
            del self.ready[k][agent]
            self.ready[k - 1][agent] = None
            if k - 1 < self.low:
                self.low = k - 1
        elif w == NOWHERE:
            self.place(agent, now)

    def join(self, agent: Agent, now: float) -> None:
        agent.on_shift = True
        agent.off_s = agent.end_s
        if agent.open < self.concurrency:
            self.place(agent, now)

    def leave(self, agent: Agent, now: float) -> None:
        """Off shift: no new chats; the chats it holds go on (overtime after ``now``)."""
        agent.on_shift = False
        agent.off_s = now
        if agent.where == READY:
            self._unready(agent)
        agent.where = NOWHERE


class BotPool(_Pool):
    """Bot instances (usually one). The bot replies to all its chats at once, so only its free
    slots matter: ``free[k]`` holds the on-shift instances with ``k`` open chats, and ``low`` is
    the lowest non-empty ``k`` (``concurrency`` when no slot is free)."""

    human = False

    def __init__(self, name: str, cfg: Config, rng: np.random.Generator, nbins: int):
        super().__init__(name, cfg, rng, nbins)
        self.free: list[dict[Agent, None]] = [{} for _ in range(self.concurrency)]
        self.low = self.concurrency

    def first_free(self) -> Agent | None:
        """The least-loaded on-shift instance with a free slot, or None."""
        return next(iter(self.free[self.low])) if self.low < self.concurrency else None

    def occupy(self, agent: Agent) -> None:
        k = agent.open
        bucket = self.free[k]
        del bucket[agent]
        agent.open = k + 1
        if k + 1 < self.concurrency:
            self.free[k + 1][agent] = None
        if not bucket and k == self.low:
            self.low = k + 1  # bucket k+1 now holds this agent (or k+1 is "none free")

    def vacate(self, agent: Agent, now: float) -> None:
        k = agent.open
        agent.open = k - 1
        if agent.on_shift:
            if k < self.concurrency:
                del self.free[k][agent]
            self.free[k - 1][agent] = None
            if k - 1 < self.low:
                self.low = k - 1

    def join(self, agent: Agent, now: float) -> None:
        agent.on_shift = True
        agent.off_s = agent.end_s
        k = agent.open
        if k < self.concurrency:
            self.free[k][agent] = None
            if k < self.low:
                self.low = k

    def leave(self, agent: Agent, now: float) -> None:
        agent.on_shift = False
        agent.off_s = now
        k = agent.open
        if k < self.concurrency:
            bucket = self.free[k]
            del bucket[agent]
            if not bucket and k == self.low:
                while self.low < self.concurrency and not self.free[self.low]:
                    self.low += 1


@dataclass
class Records:
    """What happened, per customer (lists indexed by customer id) and per pool."""

    customers: Customers
    assigned: list  # instant the customer first got an agent (inf: never)
    first_start: list  # instant the first reply started (inf: never, e.g. abandoned)
    first_sent: list  # instant the first reply was sent (typing done)
    first_pool: list  # pool code of the first reply, -1 if none
    human_pool: list  # pool code of the human who took over an escalated chat, -1 if none
    end: list  # OPEN / DONE / ABANDONED / DROPPED
    end_pool: list  # pool code that ended the chat normally
    resp_sum: list  # sum of response times of all replies sent to this customer (s)
    resp_n: list  # number of those replies
    escalated: list
    order: list  # NO_ORDER / PAID_NOW / UNPAID / UNPAID_NUDGED
    followup_done: list
    followup_order: list
    busy_s: dict  # pool name -> list of busy seconds per interval (on shift)
    busy_w: dict  # pool name -> busy seconds on shift after the warm-up
    overtime_s: dict  # pool name -> busy seconds after agents stopped taking chats
    overtime_w: dict  # pool name -> the same, after the warm-up
    waiting_at_end: np.ndarray  # customers in the shop queue, alive, at the horizon (never served)
    groups: dict  # pool name -> roster groups (empty for a pool the routing never uses)
    edges_s: np.ndarray
    horizon_s: float
    end_s: float  # when the drain ended: the last chat (or follow-up/nudge) that began before the horizon
    events: int
    # Facts only the chat log (cssim.chatlog) reads; each set once per chat at an existing step.
    last_agent: list  # the Agent who held the chat last (an escalated chat's human), None if never assigned
    end_t: list  # instant the chat ended (done, closed by a leaver, dropped); inf while open or skipped in the queue
    order_t: list  # instant the order was placed (chat end, or the follow-up reply); inf if none
    turn: list  # the engine's turn counter: the customer's latest message (1-based) when the chat ended
    turns: list  # turns of the chat as run (an escalation may add one to the drawn number)


class Simulation:
    """One replication. Build it, then :meth:`run` it once."""

    def __init__(
        self, cfg: Config, seed: int, replication: int = 0, progress: Callable[[float], None] | None = None
    ):
        self.cfg = cfg
        self.progress = progress  # called with the share of the horizon done, once per interval
        streams = make_streams(seed, replication)
        self.env = simpy.Environment()
        self.now = 0.0  # the model's clock (s); see _loop
        self.horizon = cfg.horizon_h * 3600.0
        self.warmup = cfg.warmup_h * 3600.0
        self.edges = interval_edges_s(cfg)
        self.ilen = cfg.interval_min * 60.0
        nbins = self.edges.size - 1
        self.cust = cust = draw_customers(cfg, streams)
        self.pools = {
            "ft": HumanPool("ft", cfg, streams["reply_ft"], nbins),
            "temps": HumanPool("temps", cfg, streams["reply_temps"], nbins),
            "bot": BotPool("bot", cfg, streams["reply_bot"], nbins),
        }
        self.groups = roster(cfg, self.edges)
        self.humans = [self.pools[p] for p in ("ft", "temps") if self.groups[p]]  # ft first: ties go to full-time
        self.bot = self.pools["bot"] if self.groups["bot"] else None
        policy = cfg.routing.policy
        if policy == "humans_only":
            self.bot = None
        self.policy = policy
        self.takeover = cfg.routing.takeover_s
        self.draining = False

        # Per-customer inputs as python lists (element access on lists is much cheaper).
        n = cust.n
        self.n = n
        self.arrival = cust.arrival.tolist()
        self.deadline = (cust.arrival + cust.patience).tolist()  # deadline of the pending message
        self.msg_t = self.arrival.copy()  # when the pending message was written
        self.silent = cust.silent.tolist()
        self.presale = cust.presale.tolist()
        self.returning = cust.returning.tolist()
        self.turns = cust.turns.tolist()
        self.offset = cust.offset.tolist()
        self.think = cust.think.tolist()
        self.midpat = cust.midpat.tolist()
        self.u_order = cust.u_order.tolist()
        self.u_pay_now = cust.u_pay_now.tolist()
        self.u_followup = cust.u_followup.tolist()
        self.u_bot = cust.u_bot.tolist()

        # Per-customer state.
        self.turn = [1] * n  # turn whose reply is pending / being typed
        self.agent_of: list[Agent | None] = [None] * n
        self.assigned = [INF] * n
        self.first_start = [INF] * n
        self.first_sent = [INF] * n
        self.first_pool = [-1] * n
        self.human_pool = [-1] * n
        self.end = [OPEN] * n
        self.end_pool = [-1] * n
        self.resp_sum = [0.0] * n
        self.resp_n = [0] * n
        self.escalated = [False] * n
        self.order = [NO_ORDER] * n
        self.followup_done = [False] * n
        self.followup_order = [False] * n
        self.last_agent: list[Agent | None] = [None] * n  # chat log only (see Records)
        self.end_t = [INF] * n
        self.order_t = [INF] * n

        self.q_new: deque[int] = deque()  # waiting for a first reply
        self.q_esc: deque[int] = deque()  # escalated by the bot, waiting for a human
        self.tasks: deque[tuple[int, int, float]] = deque()  # (kind, customer, expires)
        # Humans by (lower bound of) the instant their typing queue empties: the first with a
        # key <= now and nothing queued is idle. Each agent is in it at most once; keys are
        # refreshed lazily when popped. Only kept when follow-ups or nudges are on.
        self.idle_heap: list[tuple[float, int, Agent]] = []
        self.task_wake_pending = False
        self.events = 0

        r = cfg.routing
        self.esc_priority = r.escalation_priority
        self.resolve_prob = r.bot_resolve_prob
        self.escalate_at = r.bot_turns_before_escalation
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

    # ---------------------------------------------------------------- scheduling
    def _at(self, t: float, callback: Callable[[Call], None], payload: object) -> None:
        """Call ``callback(event)`` at absolute time ``t``; ``event.value`` is ``payload``."""
        self.events += 1
        self.env.schedule(Call(callback, payload), NORMAL, t - self.env.now)  # absolute t

    def run(self) -> Records:
        """Simulate from 0 to the horizon, then drain, and return the records."""
        in_use = self.humans + ([self.bot] if self.bot else [])
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
        if self.progress is not None:
            for t in self.edges[1:-1]:
                self._at(float(t), self._report, None)
        self._loop()
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
            groups={k: (g if self.pools[k] in in_use else []) for k, g in self.groups.items()},
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

    def _report(self, ev: Call) -> None:
        self.progress(self.now / self.horizon)

    # ---------------------------------------------------------------- routing
    def _best_human(self) -> Agent | None:
        """The on-shift human with a free slot who can start a reply soonest, or None; sets
        ``self.start`` to that instant. Ties (several idle now): fewer open chats, then
        full-time before temps (MODEL.md step 2)."""
        now = self.now
        best, k = None, 1 << 30
        for pool in self.humans:
            pool.promote(now)
            low = pool.low
            if low < pool.concurrency and low < k:
                best, k = pool, low
        if best is not None:
            self.start = now
            return next(iter(best.ready[k]))
        agent, t = None, INF
        for pool in self.humans:
            a = pool.soonest()
            if a is not None and a.busy_until < t:
                agent, t = a, a.busy_until
        self.start = t
        return agent

    def _free_bot(self) -> Agent | None:
        return self.bot.first_free() if self.bot is not None else None

    def _loop(self) -> None:
        """Merge the pre-drawn, sorted arrivals with SimPy's event calendar up to the horizon,
        then drain: run the calendar until it is empty (chats that began before the horizon end).

        Arrivals need no event of their own: the next one is handled when it comes before the
        next scheduled event (``env.peek()``), everything else is ``env.step()``. ``self.now``
        is the model's clock for both (every handler reads it); SimPy's clock catches up at
        the next step, and events are always scheduled at absolute times >= both clocks.
        """
        step, peek = self.env.step, self.env.peek
        arrival, n, horizon = self.arrival, self.n, self.horizon
        i = 0
        t_arr = arrival[0] if n else INF
        while True:
            t_ev = peek()
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
                step()
        self.now = horizon
        self._close()
        while True:
            t_ev = peek()
            if t_ev == INF:
                return
            self.now = t_ev
            step()

    def _arrive(self, cid: int) -> None:
        """A new inquiry is routed by the policy (MODEL.md step 2), or waits in the shop queue."""
        policy = self.policy
        if policy == "bot_first":
            agent = self._free_bot() or self._best_human()
        else:
            agent = self._best_human()
            # human_first: the bot takes over when no human could start within takeover_s.
            if policy == "human_first" and (agent is None or self.start - self.now > self.takeover):
                agent = self._free_bot() or agent
        if agent is None:
            self.q_new.append(cid)
        else:
            self._assign(agent, cid)

    def _next_waiting(self, human: bool) -> int | None:
        """Pop the next live customer for a freed slot, dropping lazily those who left."""
        now = self.now
        dl = self.deadline
        q_esc, q_new = self.q_esc, self.q_new
        silent = self.silent
        while human and q_esc:
            if not self.esc_priority:
                # Plain FIFO across both queues: compare with the oldest *live* new inquiry.
                while q_new and dl[q_new[0]] < now and not silent[q_new[0]]:
                    q_new.popleft()
                if q_new and self.msg_t[q_esc[0]] > self.arrival[q_new[0]]:
                    break
            cid = q_esc.popleft()
            if self.end[cid] == DROPPED:
                continue  # left at its deadline while waiting (see _esc_deadline)
            return cid
        while q_new:
            cid = q_new.popleft()
            if dl[cid] < now and not silent[cid]:
                continue  # a visible abandoner closed the chat: lost, skipped at no cost
            return cid  # live, or a silent abandoner an agent will still type to
        return None

    def _drain_queue(self) -> None:
        """New capacity came on shift: waiting customers go, one at a time, where the routing
        would send them on arrival (escalations only to humans)."""
        while self.q_new or self.q_esc:
            human = self._best_human()
            bot = self._free_bot()
            if human is None and bot is None:
                return
            cid = self._next_waiting(human is not None)
            if cid is None:
                return
            if human is None or (
                self.turn[cid] == 1
                and bot is not None
                and (self.policy == "bot_first" or self.start - self.now > self.takeover)
            ):
                self._assign(bot, cid)
            else:
                self._assign(human, cid)

    def _fill(self, agent: Agent) -> None:
        """Give an agent whose slot just freed waiting customers up to its concurrency. (While
        anyone waits, no other agent the customer could go to has a free slot.)"""
        pool = agent.pool
        human = pool.human
        while agent.open < pool.concurrency:
            cid = self._next_waiting(human)
            if cid is None:
                return
            self._assign(agent, cid)

    def _assign(self, agent: Agent, cid: int) -> None:
        pool = agent.pool
        pool.occupy(agent)
        self.agent_of[cid] = agent
        if self.assigned[cid] == INF:
            self.assigned[cid] = self.now
        self.last_agent[cid] = agent
        if pool is self.bot:
            self._bot_chat(agent, cid)
        else:
            self._reply(agent, cid)
            if agent.open < pool.concurrency:
                pool.place(agent, self.now)

    def _release(self, agent: Agent) -> None:
        agent.pool.vacate(agent, self.now)
        if agent.on_shift and (self.q_new or self.q_esc):
            self._fill(agent)

    # ---------------------------------------------------------------- conversation
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

    def _reply(self, agent: Agent, cid: int) -> None:
        """The customer's pending message joins the agent's typing FIFO. The reply's start is
        known now, so abandonment (judged at reply start) is settled now."""
        now = self.now
        pool = agent.pool
        start = agent.busy_until if agent.busy_until > now else now
        k = self.turn[cid]
        if start > self.deadline[cid]:
            if k > 1:  # includes an escalated chat's first human reply
                self._at(self.deadline[cid], self._end_dropped, cid)
            elif self.silent[cid]:
                # Gone without a word: the agent still types the reply when reaching them.
                done = start + pool.reply.next()
                agent.busy_until = done
                if agent.where == READY:
                    pool.typing(agent)
                self._busy(agent, start, done)
                if self.tasks_on and not agent.in_heap:
                    self._track(agent)
                self._at(done, self._end_abandoned, cid)
            else:
                self._at(self.deadline[cid], self._end_abandoned, cid)
            return
        done = start + pool.reply.next()
        agent.busy_until = done
        if agent.where == READY:
            pool.typing(agent)  # idle with a free slot until now: file it as typing
        self._busy(agent, start, done)
        if self.tasks_on and not agent.in_heap:
            self._track(agent)  # keep it findable by when it will be free for tasks
        if k == 1:
            self.first_start[cid] = start
            self.first_sent[cid] = done
            self.first_pool[cid] = pool.code
        elif self.escalated[cid] and self.human_pool[cid] < 0:
            self.human_pool[cid] = pool.code  # the human's first reply to a handed-over chat
        self.resp_sum[cid] += done - self.msg_t[cid]
        self.resp_n[cid] += 1
        if k < self.turns[cid]:
            self._at(done + self.think[self.offset[cid] + k - 1], self._on_message, cid)
        else:
            self._at(done, self._end_done, cid)

    def _on_message(self, ev: Call) -> None:
        """The customer writes again (turn k+1); mid-chat patience starts now."""
        cid = ev.value
        now = self.now
        k = self.turn[cid]
        self.turn[cid] = k + 1
        self.msg_t[cid] = now
        self.deadline[cid] = now + self.midpat[self.offset[cid] + k - 1]
        self._reply(self.agent_of[cid], cid)

    def _bot_chat(self, agent: Agent, cid: int) -> None:
        """A bot chat never waits for a reply, so it is computed whole now: replies up to the
        end (resolved) or up to the hand-over to a human (escalated)."""
        now = self.now
        pool = agent.pool
        if now > self.deadline[cid]:
            # A silent abandoner reached from the queue: one wasted reply.
            done = now + pool.reply.next()
            self._busy(agent, now, done)
            self._at(done, self._end_abandoned, cid)
            return
        resolved = self.u_bot[cid] < self.resolve_prob
        last = self.turns[cid] if resolved else self.escalate_at
        off = self.offset[cid]
        t = now
        m = self.msg_t[cid]
        s = 0.0
        for k in range(1, last + 1):
            done = t + pool.reply.next()
            if k == 1:
                self.first_start[cid] = t
                self.first_sent[cid] = done
                self.first_pool[cid] = pool.code
            s += done - m
            t = m = done + self.think[off + k - 1] if k < last or not resolved else done
        self.resp_sum[cid] += s
        self.resp_n[cid] += last
        self._busy(agent, now, t)
        if resolved:
            self._at(t, self._end_done, cid)
        else:
            self.turn[cid] = last  # the hand-over message is turn last+1
            self._at(t, self._escalate, cid)

    def _escalate(self, ev: Call) -> None:
        """The customer's next message asks for a human: the bot lets the chat go and the
        customer waits for a human with mid-chat patience, ahead of new inquiries."""
        cid = ev.value
        now = self.now
        k = self.turn[cid]
        self.turn[cid] = k + 1
        if self.turns[cid] < k + 1:
            self.turns[cid] = k + 1
        self.msg_t[cid] = now
        self.deadline[cid] = now + self.midpat[self.offset[cid] + k - 1]
        self.escalated[cid] = True
        bot_agent = self.agent_of[cid]
        self.agent_of[cid] = None
        agent = self._best_human()
        if agent is None:
            self.q_esc.append(cid)
            # Mid-chat patience is a timer here (only escalations wait in this queue): the
            # customer leaves at the deadline, whether or not a human ever comes.
            self._at(self.deadline[cid], self._esc_deadline, cid)
        else:
            self._assign(agent, cid)
        self._release(bot_agent)

    def _esc_deadline(self, ev: Call) -> None:
        cid = ev.value
        if self.agent_of[cid] is None and self.end[cid] == OPEN:
            self._drop(cid)  # still waiting for a human: the chat closes

    # ---------------------------------------------------------------- chat ends
    def _end_done(self, ev: Call) -> None:
        """Last reply sent: the slot frees, and a presale chat may place an order."""
        cid = ev.value
        agent = self.agent_of[cid]
        self.agent_of[cid] = None
        pool = agent.pool
        self.end[cid] = DONE
        self.end_t[cid] = self.now
        self.end_pool[cid] = pool.code
        if self.presale[cid]:
            p = self.order_prob * pool.conversion * self._delay_factor(self.resp_sum[cid] / self.resp_n[cid])
            if self.u_order[cid] < p:
                self._place_order(cid)
            elif self.followup_on:
                self._at(self.now + self.followup_after, self._task_due, (FOLLOWUP, cid))
        self._release(agent)

    def _end_abandoned(self, ev: Call) -> None:
        cid = ev.value
        agent = self.agent_of[cid]
        self.agent_of[cid] = None
        self.end[cid] = ABANDONED
        self.end_t[cid] = self.now
        self._release(agent)

    def _end_dropped(self, ev: Call) -> None:
        cid = ev.value
        agent = self.agent_of[cid]
        self.agent_of[cid] = None
        self._drop(cid)
        self._release(agent)

    def _drop(self, cid: int) -> None:
        self.end[cid] = DROPPED
        self.end_t[cid] = self.now
        if self.followup_on and self.followup_drops and self.presale[cid]:
            self._at(self.now + self.followup_after, self._task_due, (FOLLOWUP, cid))

    def _delay_factor(self, r: float) -> float:
        """How the chat's mean response time ``r`` (s) scales the order probability."""
        excess = r - self.delay_ref
        if self.delay_kind == "none" or excess <= 0:
            return 1.0
        if self.delay_kind == "exponential":
            return math.exp(-excess / self.delay_scale)
        return max(0.0, 1.0 - excess / self.delay_scale)

    def _place_order(self, cid: int) -> None:
        self.order_t[cid] = self.now
        if self.u_pay_now[cid] < self.pay_now_prob:
            self.order[cid] = PAID_NOW
            return
        self.order[cid] = UNPAID
        if self.nudge_on and not self.returning[cid]:
            self._at(self.now + self.nudge_after, self._task_due, (NUDGE, cid))

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
            _, _, a = heappop(heap)
            a.in_heap = False
            if not a.on_shift and not a.stays:
                continue  # gone home; finishing chats needs no tasks
            if a.busy_until <= now:
                return a
            self._track(a)  # got more work since: re-key it
        return None

    def _task_due(self, ev: Call) -> None:
        kind, cid = ev.value
        window = self.followup_window if kind == FOLLOWUP else self.nudge_window
        self.tasks.append((kind, cid, self.now + window))
        self._work_tasks()

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
        done = now + pool.reply.next()
        agent.busy_until = done
        if agent.where == READY:
            pool.typing(agent)
        self._busy(agent, now, done)
        self._track(agent)
        if kind == FOLLOWUP:
            self.followup_done[cid] = True
            if self.u_followup[cid] < self.followup_prob:
                self.followup_order[cid] = True
                self._place_order(cid)
        else:
            self.order[cid] = UNPAID_NUDGED
