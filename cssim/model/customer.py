"""One customer's life, as one SimPy process read top to bottom (:func:`customer_life`).

Times are absolute seconds on the clock. A customer arrives with an inquiry, is routed (or
waits in the shop queue), and chats: ``turns`` messages, each answered by one reply, with a
think time between a reply and the next message. A human answers one message at a time, first
come first served, so the instant a reply *starts* is known as soon as the message reaches the
agent; abandonment is judged at that instant (docs/model.md#abandonment):

* the first reply has not started by arrival + patience: the customer has left (lost); a
  visible leaver closes the chat at its deadline, a silent one costs the agent the reply's
  typing and the chat closes when it is sent;
* a later reply has not started by the message's instant + its mid-chat patience: a mid-chat
  drop at that deadline.

The bot answers at once and never makes anyone wait, so its part of a chat is known as soon as
it is seated: it resolves the inquiry, or after ``bot_turns_before_escalation`` replies the
customer asks for a human (the hand-over) and waits for a human's first reply, routed the same
backlog-aware way and ahead of new inquiries, for its hand-over patience (drawn before the clock
started): a reply not started by the hand-over instant + that patience is a lost inquiry
(``LOST_HANDOVER``), closed at the deadline.

Each wake-up of the process (``chat.next_step``) is scheduled in the step that decides it, at
the absolute instant computed (``env.trigger_at``): the seating that queues its first reply
(or computes the bot's part), or its own message step. So events that share an instant run in
the order the fused kernel (:mod:`cssim.kernel`) schedules them, and the records are equal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Generator

import numpy as np
import simpy

from cssim.model.customers import BLOCK, Block
from cssim.model.records import ABANDONED, DONE, DROPPED, FIELDS, LOST_HANDOVER
from cssim.model.pools import Agent, HumanPool

INF = float("inf")

if TYPE_CHECKING:
    from cssim.model.shop import Shop, ShopEnvironment


class Ledger:
    """What each customer's life leaves behind: one numpy array per fact, indexed by customer
    (the columns of :class:`cssim.model.records.Records`, defined in
    :data:`cssim.model.records.FIELDS`), each written once, at the step where it happens."""

    def __init__(self, n: int, turns: np.ndarray):
        a: dict[str, np.ndarray] = {k: np.full(n, v, dtype=dt) for k, (dt, v) in FIELDS.items()}
        a["turns"][:] = turns
        self.arrays = a
        self.assigned = a["assigned"]  # first seated (s)
        self.first_start = a["first_start"]  # first reply started (s)
        self.first_sent = a["first_sent"]  # first reply sent (s)
        self.first_pool = a["first_pool"]  # pool code of the first reply
        self.human_pool = a["human_pool"]  # pool code of the human after a hand-over
        self.handover_t = a["handover_t"]  # the bot handed the chat over (s)
        self.human_start = a["human_start"]  # the human's first reply after it started (s)
        self.human_sent = a["human_sent"]  # ... and was sent (s)
        self.drop_wait = a["drop_wait"]  # a mid-chat drop: how long the customer had waited (s)
        self.end = a["end"]  # OPEN / DONE / ABANDONED / DROPPED / LOST_HANDOVER
        self.end_pool = a["end_pool"]  # pool code that ended the chat normally
        self.resp_sum = a["resp_sum"]  # response times of all replies (s)
        self.resp_n = a["resp_n"]
        self.escalated = a["escalated"]
        self.order = a["order"]  # NO_ORDER / PAID_NOW / UNPAID / UNPAID_NUDGED
        self.followup_done = a["followup_done"]
        self.followup_order = a["followup_order"]
        self.last_agent = a["last_agent"]  # id of who held the chat last
        self.end_t = a["end_t"]  # the chat ended (s)
        self.order_t = a["order_t"]  # the order was placed (s)
        self.turn = a["turn"]  # the latest message when the chat ended
        self.turns = a["turns"]  # messages of the chat as run


class Chat:
    """A customer's inquiry while it is open: the message pending a reply and its deadline, and
    ``next_step``, the event the customer's process waits on (scheduled by whichever step
    decides when the customer acts next: a seating, or the customer's own message)."""

    __slots__ = ("cid", "agent", "turn", "turns", "written_at", "deadline", "resp_sum", "resp_n",
                 "escalated", "closed", "next_step", "reply", "bot_resolved", "draws", "think_at", "reply_at")

    def __init__(self, cid: int, arrival: float, patience: float, turns: int):
        self.cid = cid
        self.agent: Agent | None = None
        self.turn = 1  # the message whose reply is pending (1-based)
        self.turns = turns  # messages in the chat as run (a hand-over may add one)
        self.written_at = arrival  # when the pending message was written (s)
        self.deadline = arrival + patience  # the latest instant its reply may start (s)
        self.resp_sum = 0.0  # response times of the replies so far (s)
        self.resp_n = 0
        self.escalated = False
        self.closed = False
        self.next_step: simpy.Event | None = None
        self.reply: Reply | None = None  # the reply to the pending message, once it reached a human
        self.bot_resolved: bool | None = None  # the bot's part: resolved, handed over, None: wasted
        self.draws: Block | None = None  # the customer's block of per-turn draws (first seating)
        self.think_at = 0  # where its think times and mid-chat patiences start in the block
        self.reply_at = 0  # where its replies start in the block

    def bind(self, draws: Block) -> None:
        i = self.cid & (BLOCK - 1)
        self.draws = draws
        self.think_at = draws.gap[i]
        self.reply_at = draws.rep[i]

    def reply_s(self, pool_code: int, message: int) -> float:
        """How long a reply of ``pool_code`` to message ``message`` takes (s)."""
        assert self.draws is not None
        return self.draws.reply[pool_code][self.reply_at + message - 1]

    def think_s(self, reply: int) -> float:
        """How long the customer thinks after reply ``reply`` before the next message (s)."""
        assert self.draws is not None
        return self.draws.think[self.think_at + reply - 1]

    def midchat_patience_s(self, message: int) -> float:
        """How long the customer waits for the reply to message ``message`` (>= 2) to start (s)."""
        assert self.draws is not None
        return self.draws.midpat[self.think_at + message - 2]


class Reply:
    """A message's reply at a human: when it starts and is sent (s); ``gone``: the customer
    left before it started (then ``sent`` is when a silent leaver's wasted reply is done)."""

    __slots__ = ("start", "sent", "gone")

    def __init__(self, start: float, sent: float, gone: bool):
        self.start, self.sent, self.gone = start, sent, gone


def message_reaches(env: "ShopEnvironment", chat: Chat, agent: Agent, silent: bool) -> Reply:
    """The chat's pending message joins the agent's typing queue now. The reply starts when the
    queue empties, unless that is after the customer's deadline; either way the customer's next
    step is known now and goes on the calendar (``chat.next_step``): it leaves at the deadline
    (a silent leaver: once its wasted reply is sent), or reads the reply when it is sent and
    writes the next message a think time later (or the chat ends then)."""
    pool = agent.pool
    assert isinstance(pool, HumanPool) and chat.next_step is not None
    now = env.now
    start = agent.busy_until if agent.busy_until > now else now
    if start > chat.deadline:
        if chat.turn == 1 and silent:  # gone without a word: the agent still types the reply
            reply = Reply(start, pool.type_at(agent, start, chat.reply_s(pool.code, 1)), gone=True)
        else:
            reply = Reply(start, chat.deadline, gone=True)
        env.trigger_at(chat.next_step, reply.sent)
    else:
        reply = Reply(start, pool.type_at(agent, start, chat.reply_s(pool.code, chat.turn)), gone=False)
        last = chat.turn == chat.turns
        env.trigger_at(chat.next_step, reply.sent if last else reply.sent + chat.think_s(chat.turn))
    chat.reply = reply
    return reply


def bot_answers(env: "ShopEnvironment", chat: Chat, bot: Agent, resolves: bool, turns_before_handover: int,
                records: Ledger) -> None:
    """The bot's part of the chat, computed whole when the chat is seated with the bot (it
    answers each message at once, so nothing it does waits): ``last`` replies, each sent a reply
    time after its message, the next message a think time later; the chat holds the bot's slot
    until the end (resolved) or the hand-over message, which is ``chat.next_step``."""
    assert chat.next_step is not None
    now, cid, code = env.now, chat.cid, bot.pool.code
    if now > chat.deadline:  # a silent leaver reached from the queue: one wasted reply
        done = now + chat.reply_s(code, 1)
        bot.pool.book(bot, now, done)
        chat.bot_resolved = None
        env.trigger_at(chat.next_step, done)
        return
    last = chat.turns if resolves else turns_before_handover
    t, written = now, chat.written_at  # the bot's clock; when the message was written
    spent = 0.0  # response times, summed
    for k in range(1, last + 1):
        sent = t + chat.reply_s(code, k)
        if k == 1:
            records.first_start[cid], records.first_sent[cid] = t, sent
            records.first_pool[cid] = code
        spent += sent - written
        t = written = sent + chat.think_s(k) if k < last or not resolves else sent
    chat.resp_sum += spent
    chat.resp_n += last
    bot.pool.book(bot, now, t)
    chat.bot_resolved = resolves
    if not resolves:
        chat.turn = last  # the hand-over message is the next one
    env.trigger_at(chat.next_step, t)


def customer_life(shop: "Shop", cid: int) -> Generator[simpy.Event, object, None]:
    """Customer ``cid`` from arrival (now) to the end of its chat."""
    env, router, records = shop.env, shop.router, shop.records
    c = shop.customers
    silent = bool(c.silent[cid])
    chat = Chat(cid, env.now, float(c.patience[cid]), int(c.turns[cid]))

    # 1. Routed by the policy, or waits in the shop queue until a slot frees. Seating decides
    #    the customer's next step (the bot's part, or the first reply); a visible customer who
    #    left while queued is skipped when reached, and this process never resumes.
    chat.next_step = env.event()
    agent = router.for_new_inquiry()
    if agent is None:
        router.new.append(chat)
    else:
        shop.seat(agent, chat)
    yield chat.next_step
    agent = chat.agent
    assert agent is not None

    # 2. The bot's part of the chat (computed when seated): resolved, or handed over.
    if not agent.pool.human:
        if chat.bot_resolved is None:
            shop.close(chat, ABANDONED)  # its wasted reply is sent
            return
        if chat.bot_resolved:
            shop.close(chat, DONE)
            return
        # The hand-over: the customer's next message asks for a human, and the customer waits
        # for a human's first reply, routed like a new inquiry but ahead of new inquiries, for
        # its hand-over patience (drawn before the clock started).
        chat.turn += 1
        chat.turns = max(chat.turns, chat.turn)
        chat.written_at = env.now
        chat.deadline = env.now + float(c.handover_patience[cid])
        chat.escalated = True
        records.escalated[cid] = True
        records.handover_t[cid] = env.now
        bot, chat.agent = agent, None
        chat.next_step = env.event()
        human, _ = router.best_human()
        if human is None:
            router.handovers.append(chat)

            def gives_up(_: simpy.Event) -> None:
                if chat.agent is None and not chat.closed:  # (closed: withdrawn at the horizon)
                    shop.close(chat, LOST_HANDOVER)  # no human came in time: a lost inquiry

            if chat.deadline < INF:
                env.at(chat.deadline).callbacks.append(gives_up)
        else:
            shop.seat(human, chat)
        shop.leave_bot(bot)
        yield chat.next_step  # a human seated it (if it gave up, this never comes)
        agent = chat.agent
        assert agent is not None

    # 3. The human's part: each message waits for its reply, then the customer thinks.
    first_human_reply = chat.escalated  # the reply a handed-over customer waits for
    while True:
        reply = chat.reply
        assert reply is not None
        if reply.gone:  # left before the reply started: lost (first reply, hand-over) or a drop
            if not first_human_reply and chat.turn > 1:
                records.drop_wait[cid] = chat.deadline - chat.written_at
            shop.close(chat, ABANDONED if chat.turn == 1 else LOST_HANDOVER if first_human_reply else DROPPED)
            return
        if chat.turn == 1:
            records.first_start[cid], records.first_sent[cid] = reply.start, reply.sent
            records.first_pool[cid] = agent.pool.code
        elif first_human_reply:  # the human's first reply after a hand-over
            records.human_pool[cid] = agent.pool.code
            records.human_start[cid], records.human_sent[cid] = reply.start, reply.sent
        first_human_reply = False
        chat.resp_sum += reply.sent - chat.written_at
        chat.resp_n += 1
        if chat.turn == chat.turns:
            shop.close(chat, DONE)  # (now: the last reply is sent)
            return
        # Now: the next message, a think time after the reply; its mid-chat patience starts.
        chat.turn += 1
        chat.written_at = env.now
        chat.deadline = env.now + chat.midchat_patience_s(chat.turn)
        chat.next_step = env.event()
        message_reaches(env, chat, agent, silent)
        yield chat.next_step
