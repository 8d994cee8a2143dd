"""Pools, agents and the routing: who gets an inquiry (docs/model.md#routing, docs/model.md#pools).

A pool (``ft``, ``temps``, ``bot``) is a set of :class:`Agent` s with a concurrency (slots per
agent), a reply-time sampler (seconds, scaled by ``1 / speed``) and busy-time accounts.

* :class:`HumanPool` keeps its on-shift humans with a free slot so that the one who can *start*
  a reply soonest is found without scanning agents: idle ones in buckets by open chats, typing
  ones in a heap by when their typing queue empties (keys refreshed lazily).
* :class:`BotPool` keeps only free slots: the bot never makes anyone wait for a reply.
* :class:`Dispatching` (a mixin of :class:`cssim.kernel.simulation.Simulation`) is the dispatcher:
  on arrival, at the instant ``now`` (s), ``_arrive`` picks by the policy (``human_first``: the
  bot takes over when no human could start within ``routing.takeover_s`` seconds; ``bot_first``;
  ``humans_only``) and ``_assign`` gives the chat a slot; with no free slot anywhere the
  customer waits in the shop's FIFO (``q_new``; escalations in ``q_esc``), and a slot that frees
  (``_release``) or capacity that comes on shift (``_drain_queue``) takes the next live one.
  Abandoners in the queue are dropped lazily when reached (exact for FIFO: they are never served).
"""

from __future__ import annotations

from collections import deque
from heapq import heappop, heappush, heapreplace

from cssim.config import Config
from cssim.kernel.chat import Chat
from cssim.model.records import INF

from cssim.model.pools import BOT, FT, POOL_CODES, TEMPS  # noqa: F401 (one definition of the codes)
# Where the routing files a human (``Agent.where``).
NOWHERE, READY, BUSY = 0, 1, 2


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
    """What every pool has: its code, concurrency and busy-time accounts. (Reply times are the
    customers' own draws: :class:`cssim.model.customers.ChatDraws`.)"""

    def __init__(self, name: str, cfg: Config, nbins: int):
        p = getattr(cfg.staffing, name)
        self.name = name
        self.code = POOL_CODES[name]
        self.concurrency = p.concurrency
        self.conversion = p.conversion
        self.busy_s = [0.0] * nbins  # typing seconds (humans) or open-chat seconds (bot) per interval
        self.busy_w = 0.0  # the same, after the warm-up (whatever the interval edges)
        self.overtime_s = 0.0  # busy seconds after the agent stopped taking chats (finishing them)
        self.overtime_w = 0.0  # the same, after the warm-up


class HumanPool(_Pool):
    """On-shift humans of one pool with a free slot, kept so that the one who can *start* a
    reply soonest is found without scanning agents (docs/model.md#routing).

    ``ready[k]``: idle agents (typing queue empty) with ``k`` open chats, an insertion-ordered
    dict used as an ordered set; ``low`` is the lowest non-empty ``k`` (``concurrency`` if none).
    ``heap``: agents still typing, by when their typing queue empties. A heap key is a lower
    bound, refreshed when it reaches the top (replies queued meanwhile only push it later), so
    queuing a reply costs nothing here; entries of agents that moved are skipped by ``seq``.
    An agent becomes idle with no event: :meth:`promote` moves agents whose key has passed.
    """

    human = True

    def __init__(self, name: str, cfg: Config, nbins: int):
        super().__init__(name, cfg, nbins)
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
            self._file_busy(agent)

    def _file_busy(self, agent: Agent) -> None:
        """Into the heap of typing agents, under a fresh ``seq`` (older entries go stale)."""
        agent.where = BUSY
        self.seq += 1
        agent.seq = self.seq
        heappush(self.heap, (agent.busy_until, self.seq, agent))

    def typing(self, agent: Agent) -> None:
        """The agent's typing queue just grew: an idle agent becomes a typing one."""
        if agent.where == READY:
            self._unready(agent)
            self._file_busy(agent)

    def promote(self, now: float) -> None:
        """Agents whose typing queue has emptied by ``now`` become idle."""
        heap = self.heap
        while heap and heap[0][0] <= now:
            _, s, a = heap[0]
            if a.where != BUSY or a.seq != s:
                heappop(heap)  # stale entry
            elif a.busy_until <= now:
                heappop(heap)
                k = a.open
                self.ready[k][a] = None
                a.where = READY
                if k < self.low:
                    self.low = k
            else:
                # typed more since filed: re-key in place (entries are unique by (key, seq), so
                # the pop order does not depend on how the heap is laid out)
                heapreplace(heap, (a.busy_until, s, a))

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

    def __init__(self, name: str, cfg: Config, nbins: int):
        super().__init__(name, cfg, nbins)
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



class Dispatching:
    """The dispatcher, mixed into the simulation (it reads the clock ``self.now``, s).

    State: ``pools`` (name -> pool), ``humans`` (the human pools in use, full-time first, so ties
    go to full-time), ``bot`` (None when the policy or the roster has no bot), ``q_new`` (new
    inquiries waiting for a first reply, FIFO) and ``q_esc`` (chats the bot escalated, waiting for
    a human). ``start`` is set by :meth:`_best_human`: when the picked human can start (s).
    """

    def _init_routing(self, cfg: Config, nbins: int) -> None:
        self.pools = {
            "ft": HumanPool("ft", cfg, nbins),
            "temps": HumanPool("temps", cfg, nbins),
            "bot": BotPool("bot", cfg, nbins),
        }
        self.humans = [self.pools[p] for p in ("ft", "temps") if self.groups[p]]  # ft first: ties go to full-time
        self.bot = self.pools["bot"] if self.groups["bot"] else None
        policy = cfg.routing.policy
        if policy == "humans_only":
            self.bot = None
        self.policy = policy
        self.takeover = cfg.routing.takeover_s
        self.esc_priority = cfg.routing.escalation_priority
        self.q_new: deque[Chat] = deque()  # waiting for a first reply
        self.q_esc: deque[Chat] = deque()  # escalated by the bot, waiting for a human

    def _best_human(self) -> Agent | None:
        """The on-shift human with a free slot who can start a reply soonest, or None; sets
        ``self.start`` to that instant. Ties (several idle now): fewer open chats, then
        full-time before temps (docs/model.md#routing)."""
        now = self.now
        best, k = None, 1 << 30
        for pool in self.humans:
            heap = pool.heap
            if heap and heap[0][0] <= now:
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

    def _arrive(self, cid: int) -> None:
        """A new inquiry is routed by the policy (docs/model.md#routing), or waits in the shop queue."""
        now = self.now
        ch = Chat(cid, now, now + self.patience[cid], self.turns[cid])
        policy = self.policy
        if policy == "bot_first":
            agent = self._free_bot() or self._best_human()
        else:
            agent = self._best_human()
            # human_first: the bot takes over when no human could start within takeover_s.
            if policy == "human_first" and (agent is None or self.start - now > self.takeover):
                agent = self._free_bot() or agent
        if agent is None:
            self.q_new.append(ch)
        else:
            self._assign(agent, ch)

    def _next_waiting(self, human: bool) -> Chat | None:
        """Pop the next live customer for a freed slot, dropping lazily those who left."""
        now = self.now
        q_esc, q_new = self.q_esc, self.q_new
        silent = self.silent
        while human and q_esc:
            if not self.esc_priority:
                # Plain FIFO across both queues: compare with the oldest *live* new inquiry.
                while q_new and q_new[0].deadline < now and not silent[q_new[0].cid]:
                    q_new.popleft()
                if q_new and q_esc[0].written_at > q_new[0].written_at:
                    break
            ch = q_esc.popleft()
            if ch.turn == 0:
                continue  # left at its deadline while waiting (see _esc_deadline)
            return ch
        while q_new:
            ch = q_new.popleft()
            if ch.deadline < now and not silent[ch.cid]:
                continue  # a visible abandoner closed the chat: lost, skipped at no cost
            return ch  # live, or a silent abandoner an agent will still type to
        return None

    def _drain_queue(self) -> None:
        """New capacity came on shift: waiting customers go, one at a time, where the routing
        would send them on arrival (escalations only to humans)."""
        while self.q_new or self.q_esc:
            human = self._best_human()
            bot = self._free_bot()
            if human is None and bot is None:
                return
            ch = self._next_waiting(human is not None)
            if ch is None:
                return
            if human is None or (
                not ch.escalated
                and bot is not None
                and (self.policy == "bot_first" or self.start - self.now > self.takeover)
            ):
                self._assign(bot, ch)
            else:
                self._assign(human, ch)

    def _fill(self, agent: Agent) -> None:
        """Give an agent whose slot just freed waiting customers up to its concurrency. (While
        anyone waits, no other agent the customer could go to has a free slot.)"""
        pool = agent.pool
        human = pool.human
        while agent.open < pool.concurrency:
            ch = self._next_waiting(human)
            if ch is None:
                return
            self._assign(agent, ch)

    def _assign(self, agent: Agent, ch: Chat) -> None:
        """The chat takes one of the agent's slots (its first agent, or a human after the bot)."""
        pool = agent.pool
        pool.occupy(agent)
        ch.agent = agent
        if ch.draws is None:
            self._bind(ch)
        ch.replies = ch.draws.reply[pool.code]
        self.rw.last_agent[ch.cid] = agent.id
        if pool is self.bot:
            self._bot_chat(agent, ch)
        else:
            self._reply(agent, ch)
            if agent.open < pool.concurrency:
                pool.place(agent, self.now)

    def _release(self, agent: Agent) -> None:
        agent.pool.vacate(agent, self.now)
        if agent.on_shift and (self.q_new or self.q_esc):
            self._fill(agent)
