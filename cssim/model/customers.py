"""Customers: everything about the inquiries that chance decides, independent of staffing.

One replication's customers are rows of arrays (:class:`Customers`), drawn up front by
:func:`draw_customers`, each purpose from its own random stream (:mod:`cssim.streams`):

* ``arrival``: when the inquiry arrives (s, sorted; non-homogeneous Poisson, MODEL.md step 1);
* ``patience``: how long after arrival the first reply may *start* before the customer has left (s);
* ``handover_patience``: after a bot hand-over, how long the human's first reply may take to
  *start* before the customer has left (s); drawn for everyone, used by those handed over;
* ``turns``: customer messages in the chat, each answered by one reply;
* ``u_*``: uniform draws in [0, 1) the funnel and the bot compare with their probabilities;
* ``task_reply``: the reply time (s) of a follow-up and of a nudge, per human pool.

A chat's own per-turn values are drawn when its first reply is due, by blocks of ``BLOCK``
customers (:class:`ChatDraws`): the think time after reply ``k`` (s), the mid-chat patience of
message ``k + 1`` (s, a fresh draw for every wait) and the reply time (s) to message ``k`` for *every* pool, so a turn's reply
takes the same time whichever agent of a pool types it and whenever (common random numbers
across staffing, results independent of event order). A block's generator depends only on the
seed, the replication and the block; a block lives while a chat of it is open, so memory holds
the draws of the open chats, not of the whole horizon.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np

from cssim.arrivals import arrival_times, forecast_multiplier
from cssim.config import Config
from cssim.streams import block_stream, draw

POOLS = ("ft", "temps", "bot")  # pool codes 0, 1, 2 (cssim.model.pools)
BLOCK = 1024  # customers per block of chat draws


@dataclass
class Customers:
    """Every customer of one replication, drawn before the clock starts (independent of
    staffing). Times in seconds."""

    arrival: np.ndarray
    presale: np.ndarray
    returning: np.ndarray
    silent: np.ndarray
    patience: np.ndarray
    handover_patience: np.ndarray
    turns: np.ndarray
    u_order: np.ndarray
    u_pay_now: np.ndarray
    u_pay_later: np.ndarray
    u_followup: np.ndarray
    u_bot: np.ndarray
    order_value: np.ndarray
    task_reply: np.ndarray  # (2 human pools, 2 kinds: follow-up, nudge, customers), s
    multiplier: float

    @property
    def n(self) -> int:
        return int(self.arrival.size)


def draw_customers(cfg: Config, streams: dict[str, np.random.Generator]) -> Customers:
    """All customers' arrival instants and attributes, each purpose from its own stream."""
    mult = forecast_multiplier(cfg, streams["forecast"])
    arrival = arrival_times(cfg, streams["arrivals"], mult)
    n = arrival.size
    c = cfg.customers
    u = streams["attributes"].random((3, n))
    conv = cfg.conversation
    rt = streams["turns"]
    if conv.turns_dist == "constant":
        turns = np.full(n, int(conv.turns), dtype=np.int32)
    elif conv.turns_dist == "geometric":
        turns = rt.geometric(1.0 / conv.turns, n).astype(np.int32)  # support 1, 2, ...; mean = turns
    else:
        turns = 1 + rt.poisson(conv.turns - 1.0, n).astype(np.int32)
    f = streams["funnel"]
    uf = f.random((5, n))
    tasks = np.empty((2, 2, n))
    ts = streams["tasks"]
    for i, name in enumerate(POOLS[:2]):
        p = getattr(cfg.staffing, name)
        for kind in range(2):
            tasks[i, kind] = draw(p.reply_s, ts, n, 1.0 / p.speed)
    return Customers(
        arrival=arrival,
        presale=u[0] < c.presale_share,
        returning=u[1] < c.returning_share,
        silent=u[2] < c.silent_share,
        patience=draw(c.patience, streams["patience"], n),
        handover_patience=draw(c.handover_patience, streams["handover"], n),
        turns=turns,
        u_order=uf[0],
        u_pay_now=uf[1],
        u_pay_later=uf[2],
        u_followup=uf[3],
        u_bot=uf[4],
        order_value=draw(cfg.funnel.order_value, f, n),
        task_reply=tasks,
        multiplier=mult,
    )


class Block:
    """The chat draws of customers ``[first, first + BLOCK)``, as memoryviews of float64 arrays
    (python-float element access without a python list's memory). Customer ``c``'s gap after
    reply ``k`` (1-based) is ``think[gap[c - first] + k - 1]`` (and ``midpat`` alike); its reply
    to message ``k`` by pool ``p`` is ``reply[p][rep[c - first] + k - 1]``."""

    __slots__ = ("gap", "rep", "think", "midpat", "reply", "__weakref__")

    def __init__(self, gap, rep, think, midpat, reply):
        self.gap, self.rep, self.think, self.midpat, self.reply = gap, rep, think, midpat, reply


def _layout(base: np.ndarray, extra: list[np.ndarray], base_n: np.ndarray, need: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Flat per-customer values and each customer's offset: customer ``i``'s ``need[i]`` values
    start at ``offset[i]``; the first ``base_n[i]`` come from ``base`` (in customer order), the
    rest from the extra columns (extra value ``j`` of every customer is ``extra[j]``)."""
    offset = np.zeros(need.size, dtype=np.int64)
    np.cumsum(need[:-1], out=offset[1:])
    out = np.empty(int(need.sum()))
    base_off = np.zeros(base_n.size, dtype=np.int64)
    np.cumsum(base_n[:-1], out=base_off[1:])
    out[np.repeat(offset - base_off, base_n) + np.arange(int(base_n.sum()))] = base
    for j, col in enumerate(extra):
        m = need - base_n > j
        out[offset[m] + base_n[m] + j] = col[m]
    return out, offset


class ChatDraws:
    """Per-(customer, turn) draws, made a block of :data:`BLOCK` customers at a time when a
    chat of the block first needs them (:meth:`block`).

    Within a block, one generator draws, in this fixed order: every customer's ``turns - 1``
    think times, mid-chat patiences (one per wait), replies by
    ft, temps and bot to its ``turns`` messages; then, column by column, the extra gaps and
    replies an escalated chat needs when the hand-over makes it longer than drawn (so nothing
    drawn before moves when ``routing.bot_turns_before_escalation`` does). Every pool's replies
    are drawn whether or not the pool is staffed, so adding a pool moves no other draw.
    With ``escalations=False`` (no bot in the routing: nobody can be handed over) the extra
    columns, drawn last, are left out; every other draw is the same.
    """

    def __init__(self, cfg: Config, seed: int, replication: int, turns: np.ndarray, escalations: bool = True):
        self.cfg, self.seed, self.replication = cfg, seed, replication
        self.turns = turns
        self.escalate_at = cfg.routing.bot_turns_before_escalation if escalations else 0
        self._live: weakref.WeakValueDictionary[int, Block] = weakref.WeakValueDictionary()
        self._recent: list[Block | None] = [None, None]  # keeps the newest blocks alive between chats
        self.made = 0  # blocks drawn (a block all of whose chats ended is drawn again if needed)

    def block(self, b: int) -> Block:
        """Block ``b``, drawn now unless a live chat still holds it."""
        blk = self._live.get(b)
        if blk is None:
            blk = self._live[b] = self._make(b)
            self._recent = [self._recent[1], blk]
        return blk

    def _make(self, b: int) -> Block:
        cfg = self.cfg
        conv, cust = cfg.conversation, cfg.customers
        rng = block_stream(self.seed, self.replication, b)
        turns = self.turns[b * BLOCK:(b + 1) * BLOCK].astype(np.int64)
        m = turns.size
        base_n = turns - 1
        need = np.maximum(base_n, self.escalate_at)  # gaps: an escalated chat has >= escalate_at
        n_extra = int((need - base_n).max()) if m else 0
        nb = int(base_n.sum())
        think = draw(conv.think_s, rng, nb)
        mid = draw(cust.midchat_patience, rng, nb)
        pools = [getattr(cfg.staffing, p) for p in POOLS]
        nt = int(turns.sum())
        reply = [draw(p.reply_s, rng, nt, 1.0 / p.speed) for p in pools]
        extra_think, extra_mid, extra_reply = [], [], [[] for _ in pools]
        for _ in range(n_extra):
            extra_think.append(draw(conv.think_s, rng, m))
            extra_mid.append(draw(cust.midchat_patience, rng, m))
            for j, p in enumerate(pools):
                extra_reply[j].append(draw(p.reply_s, rng, m, 1.0 / p.speed))
        think, gap = _layout(think, extra_think, base_n, need)
        mid, _ = _layout(mid, extra_mid, base_n, need)
        reps = []
        for j in range(len(pools)):
            r, rep = _layout(reply[j], extra_reply[j], turns, need + 1)
            reps.append(memoryview(r))
        self.made += 1
        return Block(gap.tolist(), rep.tolist(), memoryview(think), memoryview(mid), reps)
