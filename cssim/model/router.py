"""The dispatcher: who gets an inquiry, and the shop queue (docs/model.md#routing).

:meth:`Router.best_human` is the backlog-aware pick: among on-shift humans with a free slot,
the one who can *start* a reply soonest, returned with that instant (s). Ties among the idle:
fewer open chats, then full-time before temps, then the pool's filing order
(:mod:`cssim.model.pools`); among the typing: the earliest empty queue, full-time first on equal
instants. The router decides; it never types, and never calls back into a conversation: a
customer it seats from the queue learns it when its next step, decided by the seating, comes.

Policies: ``human_first`` (the bot takes over when no human could start within
``routing.takeover_s``), ``bot_first``, ``humans_only``. With no free slot anywhere a new
inquiry waits in the shop queue (FIFO); a hand-over waits in the escalation queue, ahead of new
inquiries when ``routing.escalation_priority``. A customer who left while queued is skipped when
reached (a FIFO abandoner is never served, so no timer is needed), unless silent: then an agent
still spends a reply on it.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Callable

import numpy as np

from cssim.config import Config
from cssim.model.pools import Agent, BotPool, HumanPool

if TYPE_CHECKING:
    from cssim.model.customer import Chat
    from cssim.model.shop import ShopEnvironment

INF = float("inf")


class Router:
    """Picks servers for new inquiries and hand-overs, and keeps the queues of those waiting."""

    def __init__(self, env: "ShopEnvironment", cfg: Config, humans: list[HumanPool], bot: BotPool | None,
                 silent: np.ndarray, seat: Callable[[Agent, "Chat"], None]):
        self.env = env
        self.humans = humans  # in use, full-time first (ties go to full-time)
        self.bot = bot  # None when the policy or the roster has no bot
        self.bot_open = True  # False while the bot is out (an extension's outage): nobody new goes to it
        self.policy = cfg.routing.policy
        self.takeover_s = cfg.routing.takeover_s
        self.escalation_priority = cfg.routing.escalation_priority
        self.silent = silent
        self.seat = seat  # gives a chat one of an agent's slots (cssim.model.shop.Shop.seat)
        self.new: deque[Chat] = deque()  # waiting for a first reply
        self.handovers: deque[Chat] = deque()  # handed over by the bot, waiting for a human

    # ------------------------------------------------------------------ picks
    def best_human(self) -> tuple[Agent | None, float]:
        """The on-shift human with a free slot who can start a reply soonest, and that instant
        (s); ``(None, inf)`` if every human slot is taken."""
        now = self.env.now
        best: tuple[int, Agent] | None = None
        for pool in self.humans:
            found = pool.fewest_open_idle(now)
            if found is not None and (best is None or found[0] < best[0]):
                best = found
        if best is not None:
            return best[1], now
        agent, start = None, INF
        for pool in self.humans:
            a = pool.soonest_typing()
            if a is not None and a.busy_until < start:
                agent, start = a, a.busy_until
        return agent, start

    def free_bot(self) -> Agent | None:
        return self.bot.least_loaded() if self.bot is not None and self.bot_open else None

    def close_bot(self) -> None:
        """The bot takes no new chats (those it holds go on): every inquiry goes to humans."""
        self.bot_open = False

    def open_bot(self) -> None:
        """The bot takes chats again, starting with those waiting in the queues."""
        self.bot_open = True
        self.drain()

    def queue_length(self) -> int:
        """Customers in the shop queue now who have not left (their deadline is still ahead)."""
        now = self.env.now
        return sum(1 for chat in self.new if chat.deadline >= now)

    def for_new_inquiry(self) -> Agent | None:
        """Where the policy sends a new inquiry now, or None (it queues)."""
        if self.policy == "bot_first":
            return self.free_bot() or self.best_human()[0]
        agent, start = self.best_human()
        if self.policy == "human_first" and (agent is None or start - self.env.now > self.takeover_s):
            return self.free_bot() or agent
        return agent

    # ------------------------------------------------------------------ queues
    def next_waiting(self, human: bool) -> "Chat | None":
        """The next live customer for a freed slot (a human's if ``human``), dropping those who
        left while queued."""
        now = self.env.now
        handovers, new, silent = self.handovers, self.new, self.silent
        while human and handovers:
            if not self.escalation_priority:
                # one FIFO across both queues: compare with the oldest *live* new inquiry
                while new and new[0].deadline < now and not silent[new[0].cid]:
                    new.popleft()
                if new and handovers[0].written_at > new[0].written_at:
                    break
            chat = handovers.popleft()
            if chat.closed:
                continue  # left at its deadline while waiting
            return chat
        while new:
            chat = new.popleft()
            if chat.deadline < now and not silent[chat.cid]:
                continue  # a visible abandoner closed the chat: lost, skipped at no cost
            return chat
        return None

    def fill(self, agent: Agent) -> None:
        """An agent's slot just freed: it takes waiting customers up to its concurrency."""
        if not agent.on_shift or not (self.new or self.handovers):
            return
        if agent.pool is self.bot and not self.bot_open:
            return
        human = agent.pool.human
        while agent.open < agent.pool.concurrency:
            chat = self.next_waiting(human)
            if chat is None:
                return
            self.seat(agent, chat)

    def drain(self) -> None:
        """New capacity came on shift: waiting customers go, one at a time, where the routing
        would send them on arrival (hand-overs only to humans)."""
        while self.new or self.handovers:
            human, start = self.best_human()
            bot = self.free_bot()
            if human is None and bot is None:
                return
            chat = self.next_waiting(human is not None)
            if chat is None:
                return
            to_bot = bot is not None and not chat.escalated and (
                self.policy == "bot_first" or start - self.env.now > self.takeover_s)
            if human is None or to_bot:
                assert bot is not None
                self.seat(bot, chat)
            else:
                self.seat(human, chat)
