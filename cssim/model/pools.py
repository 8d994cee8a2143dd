"""Pools of agents: slots, typing queues, and the busy time each pool books for itself.

A pool (``ft``, ``temps``, ``bot``) is a set of :class:`Agent` s, each with ``concurrency``
slots (open chats). A human types one reply at a time, first come first served, so a message
that reaches an agent at instant ``now`` (s) starts being answered at
``max(now, agent.busy_until)``. The bot answers all its chats at once and never makes anyone
wait: only its free slots matter.

Each pool also keeps its *board*, the order in which the dispatcher (:mod:`cssim.model.router`)
sees its agents; the order is part of the model because it breaks ties:

* idle humans (nothing to type) with a free slot, grouped by open chats, each group in the
  order its agents were filed there;
* typing humans with a free slot, by when their typing queue empties, then by when they were
  filed. A typing agent is looked at again only when the dispatcher looks (``promote``), so an
  agent whose queue has emptied joins the idle ones at the next look, in the order of the
  instant its queue was due to empty *when it was filed* (a lower bound: replies queued since
  only push it later), then filing order.

Busy time (:meth:`AgentPool.book`): a human's typing seconds, a bot's open-chat seconds, per planning
interval and after the warm-up; the part after the agent stopped taking chats is overtime.
"""

from __future__ import annotations

from heapq import heappop, heappush, heapreplace

from cssim.config import POOLS, Config

POOL_CODES = {name: code for code, name in enumerate(POOLS)}  # as in the records
FT, TEMPS, BOT = POOL_CODES["ft"], POOL_CODES["temps"], POOL_CODES["bot"]

# Where a pool's board files a human.
OFF_BOARD, IDLE, TYPING = 0, 1, 2


class Agent:
    """One server: a person, or one bot instance.

    ``open``: chats held (slots in use); ``busy_until``: when its typing queue empties (s);
    ``on_shift``: takes new chats; ``off_s``: when it stopped taking chats (work after it is
    overtime); ``stays``: on shift at the horizon, so it does follow-ups and nudges in the drain.
    """

    __slots__ = ("pool", "id", "shift_end", "off_s", "open", "busy_until", "on_shift", "stays",
                 "status", "filed", "tracked")

    def __init__(self, pool: "HumanPool | BotPool", ident: int, shift_end: float):
        self.pool = pool
        self.id = ident
        self.shift_end = shift_end
        self.off_s = shift_end
        self.open = 0
        self.busy_until = 0.0
        self.on_shift = False
        self.stays = False
        self.status = OFF_BOARD  # where its pool files it for the router
        self.filed = 0  # the filing number of its live entry among the typing
        self.tracked = False  # on the task desk's board of humans (IdleBoard)


class IdleBoard:
    """Humans by (a lower bound of) when their typing queue empties, then agent id; each at most
    once. The pools put an agent on it when its queue grows and it is not on it already; the
    desk takes the free ones off it."""

    def __init__(self) -> None:
        self.heap: list[tuple[float, int, Agent]] = []

    def track(self, agent: Agent) -> None:
        """Put the agent on the board (once) at its current ``busy_until``."""
        if not agent.tracked:
            agent.tracked = True
            heappush(self.heap, (agent.busy_until, agent.id, agent))

    def earliest(self) -> float | None:
        return self.heap[0][0] if self.heap else None

    def free_agent(self, now: float) -> Agent | None:
        """An on-shift human (or one staying through the drain) with nothing to type at ``now``."""
        heap = self.heap
        while heap and heap[0][0] <= now:
            a = heap[0][2]
            if not a.on_shift and not a.stays:
                heappop(heap)  # gone home: finishing its chats needs no tasks
                a.tracked = False
                continue
            if a.busy_until <= now:
                heappop(heap)
                a.tracked = False
                return a
            heapreplace(heap, (a.busy_until, a.id, a))  # typed more since: re-key it
        return None


class AgentPool:
    """What every pool has: a name and code, slots per agent, a conversion factor, and the
    busy-time accounts it books itself (s)."""

    human = True

    def __init__(self, name: str, cfg: Config, n_intervals: int, interval_s: float, warmup_s: float):
        spec = getattr(cfg.staffing, name)
        self.name = name
        self.code = POOL_CODES[name]
        self.concurrency: int = spec.concurrency
        self.conversion: float = spec.conversion
        self.interval_s = interval_s
        self.warmup_s = warmup_s
        self.busy_s = [0.0] * n_intervals  # busy seconds on shift, per planning interval
        self.busy_w = 0.0  # busy seconds on shift after the warm-up
        self.overtime_s = 0.0  # busy seconds after the agent stopped taking chats
        self.overtime_w = 0.0  # the same, after the warm-up

    def book(self, agent: Agent, t0: float, t1: float) -> None:
        """Book the agent's busy span [t0, t1) (s): on-shift seconds by interval, the part after
        it stopped taking chats as overtime."""
        w = self.warmup_s
        off = agent.off_s
        if t1 > off:
            lo = t0 if t0 > off else off
            self.overtime_s += t1 - lo
            if t1 > w:
                self.overtime_w += t1 - (lo if lo > w else w)
            t1 = off
        if t0 >= t1:
            return
        if t1 > w:
            self.busy_w += t1 - (t0 if t0 > w else w)
        ilen = self.interval_s
        b = int(t0 // ilen)
        edge = (b + 1) * ilen
        while t1 > edge:
            self.busy_s[b] += edge - t0
            t0 = edge
            b += 1
            edge += ilen
        self.busy_s[b] += t1 - t0


class HumanPool(AgentPool):
    """Humans of one pool, and the board that finds who can start a reply soonest."""

    human = True

    def __init__(self, name: str, cfg: Config, n_intervals: int, interval_s: float, warmup_s: float,
                 board: IdleBoard | None):
        super().__init__(name, cfg, n_intervals, interval_s, warmup_s)
        self.board = board  # the task desk's board of humans by when they are free (None: no tasks)
        # idle[k]: idle on-shift agents with k open chats, in filing order (a dict as ordered set)
        self.idle: list[dict[Agent, None]] = [{} for _ in range(self.concurrency)]
        # typing on-shift agents with a free slot: (busy_until when filed, filing number, agent)
        self.typing: list[tuple[float, int, Agent]] = []
        self.filings = 0

    # ------------------------------------------------------------------ what the router asks
    def fewest_open_idle(self, now: float) -> tuple[int, Agent] | None:
        """The idle agent with the fewest open chats (first filed among equals) and that count,
        after agents whose typing queue has emptied by ``now`` join the idle."""
        self.promote(now)
        for k, group in enumerate(self.idle):
            if group:
                return k, next(iter(group))
        return None

    def soonest_typing(self) -> Agent | None:
        """The typing agent with a free slot whose queue empties first (first filed among
        equals); call after :meth:`fewest_open_idle` found nobody idle."""
        heap = self.typing
        while heap:
            key, filed, a = heap[0]
            if a.status != TYPING or a.filed != filed:
                heappop(heap)  # the agent moved since: a stale entry
            elif key < a.busy_until:
                heapreplace(heap, (a.busy_until, filed, a))
            else:
                return a
        return None

    def promote(self, now: float) -> None:
        """Typing agents whose queue has emptied by ``now`` become idle (the look's order)."""
        heap = self.typing
        while heap and heap[0][0] <= now:
            _, filed, a = heap[0]
            if a.status != TYPING or a.filed != filed:
                heappop(heap)
            elif a.busy_until <= now:
                heappop(heap)
                self._file_idle(a)
            else:
                heapreplace(heap, (a.busy_until, filed, a))

    # ------------------------------------------------------------------ filing
    def _file_idle(self, agent: Agent) -> None:
        self.idle[agent.open][agent] = None
        agent.status = IDLE

    def _file_typing(self, agent: Agent) -> None:
        agent.status = TYPING
        self.filings += 1
        agent.filed = self.filings
        heappush(self.typing, (agent.busy_until, self.filings, agent))

    def _unfile(self, agent: Agent) -> None:
        if agent.status == IDLE:
            del self.idle[agent.open][agent]
        agent.status = OFF_BOARD

    def file(self, agent: Agent, now: float) -> None:
        """File an on-shift agent with a free slot as idle or typing."""
        if agent.busy_until <= now:
            self._file_idle(agent)
        else:
            self._file_typing(agent)

    # ------------------------------------------------------------------ slots and typing
    def take_slot(self, agent: Agent) -> None:
        """The agent takes one more chat (filed again by :meth:`file` once its reply is queued)."""
        self._unfile(agent)
        agent.open += 1

    def type_reply(self, agent: Agent, now: float, reply_s: float) -> tuple[float, float]:
        """Queue a reply of ``reply_s`` seconds at the agent now: returns when it starts and when
        it is sent (s), and books the typing."""
        start = agent.busy_until if agent.busy_until > now else now
        return start, self.type_at(agent, start, reply_s)

    def type_at(self, agent: Agent, start: float, reply_s: float) -> float:
        """The agent types from ``start`` for ``reply_s`` seconds; returns when it is done."""
        done = start + reply_s
        agent.busy_until = done
        if agent.status == IDLE:  # idle with a free slot until now: it is typing
            self._unfile(agent)
            self._file_typing(agent)
        self.book(agent, start, done)
        if self.board is not None:
            self.board.track(agent)  # findable by when it will be free for tasks
        return done

    def free_slot(self, agent: Agent, now: float) -> None:
        """A chat of the agent ended."""
        if agent.status == IDLE:
            del self.idle[agent.open][agent]
            agent.open -= 1
            self.idle[agent.open][agent] = None
            return
        agent.open -= 1
        if agent.on_shift and agent.status == OFF_BOARD:
            self.file(agent, now)

    # ------------------------------------------------------------------ shifts
    def join(self, agent: Agent, now: float) -> None:
        agent.on_shift = True
        agent.off_s = agent.shift_end
        if agent.open < self.concurrency:
            self.file(agent, now)

    def leave(self, agent: Agent, now: float) -> None:
        """Off shift: no new chats; the chats it holds go on (overtime after ``now``)."""
        agent.on_shift = False
        agent.off_s = now
        self._unfile(agent)


class BotPool(AgentPool):
    """Bot instances (usually one): only free slots matter. ``free[k]``: on-shift instances with
    ``k`` open chats, in filing order."""

    human = False

    def __init__(self, name: str, cfg: Config, n_intervals: int, interval_s: float, warmup_s: float):
        super().__init__(name, cfg, n_intervals, interval_s, warmup_s)
        self.free: list[dict[Agent, None]] = [{} for _ in range(self.concurrency)]

    def least_loaded(self) -> Agent | None:
        """The on-shift instance with a free slot and the fewest open chats, or None."""
        for group in self.free:
            if group:
                return next(iter(group))
        return None

    def take_slot(self, agent: Agent) -> None:
        del self.free[agent.open][agent]
        agent.open += 1
        if agent.open < self.concurrency:
            self.free[agent.open][agent] = None

    def free_slot(self, agent: Agent, now: float) -> None:
        k = agent.open
        agent.open = k - 1
        if agent.on_shift:
            if k < self.concurrency:
                del self.free[k][agent]
            self.free[k - 1][agent] = None

    def join(self, agent: Agent, now: float) -> None:
        agent.on_shift = True
        agent.off_s = agent.shift_end
        if agent.open < self.concurrency:
            self.free[agent.open][agent] = None

    def leave(self, agent: Agent, now: float) -> None:
        agent.on_shift = False
        agent.off_s = now
        if agent.open < self.concurrency:
            del self.free[agent.open][agent]
