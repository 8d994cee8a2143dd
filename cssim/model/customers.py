"""Customers: everything about the inquiries that is drawn before the clock starts.

One replication's customers are rows of arrays (:class:`Customers`), drawn up front by
:func:`draw_customers`, each purpose from its own random stream (:mod:`cssim.streams`). None of
it depends on staffing or routing, so every point of a sweep sees the same customers for the
same seed and replication (common random numbers). Times are seconds on the simulation clock:

* ``arrival``: when the inquiry arrives (sorted; non-homogeneous Poisson, MODEL.md step 1);
* ``patience``: how long after arrival the first reply may *start* before the customer has left;
* ``turns``: customer messages in the chat, each answered by one reply;
* ``think``: the customer's think time after reply ``k`` before writing message ``k + 1``;
* ``midpat``: the mid-chat patience of message ``k + 1`` (from the instant it is written);
* ``u_*``: uniform draws in [0, 1) the funnel and the bot compare with their probabilities.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cssim.arrivals import arrival_times, forecast_multiplier
from cssim.config import Config
from cssim.streams import draw


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

