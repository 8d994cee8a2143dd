"""KPIs from a replication's records: the one place where each public metric is defined.

Every metric covers the span after the warm-up (``warmup_h``): customer metrics the inquiries
arriving from then on, pool and cost metrics the planning intervals from then on (a fixed cost
such as a licence is prorated). A rate with an empty denominator is NaN.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from cssim.config import POOLS, Config
from cssim.model.pools import BOT, FT, TEMPS
from cssim.model.records import ABANDONED, DONE, DROPPED, LOST_HANDOVER, NO_ORDER, PAID_NOW, UNPAID_NUDGED, Records
from cssim.roster import head_seconds

#: The public metric names, in display order (docs/model.md#outputs). Units: counts, shares in
#: [0, 1], seconds (``_s``), CNY (gmv, cost_*, profit), receptions per agent over the horizon.
METRICS = (
    "inquiries", "lost_inquiries", "lost_before_reply", "lost_after_handover", "lost_rate", "responded",
    "response_rate", "dropped_mid_chat", "avg_handover_wait_s", "avg_first_response_s", "p90_first_response_s", "avg_response_s", "sl_30s", "rr_3min",
    "bot_share", "bot_resolved", "escalated", "orders", "paid_orders", "payment_rate",
    "inquiry_conversion", "gmv", "followups_done", "followup_orders", "nudges_done", "nudged_paid",
    "utilization_ft", "utilization_temps", "utilization_bot", "receptions_per_agent_ft",
    "receptions_per_agent_temps", "receptions_per_8h_ft", "receptions_per_8h_temps",
    "cost_labor", "cost_overtime", "cost_bot", "cost_total", "profit",
)

#: The unit of every metric, for tables and charts ("share" is a fraction in [0, 1]).
UNITS = {
    "inquiries": "inquiries", "lost_inquiries": "inquiries", "lost_before_reply": "inquiries",
    "lost_after_handover": "inquiries", "lost_rate": "share", "responded": "inquiries",
    "response_rate": "share", "dropped_mid_chat": "chats", "avg_handover_wait_s": "s", "avg_first_response_s": "s",
    "p90_first_response_s": "s", "avg_response_s": "s", "sl_30s": "share", "rr_3min": "share",
    "bot_share": "share", "bot_resolved": "chats", "escalated": "chats", "orders": "orders",
    "paid_orders": "orders", "payment_rate": "share", "inquiry_conversion": "share", "gmv": "CNY",
    "followups_done": "tasks", "followup_orders": "orders", "nudges_done": "tasks", "nudged_paid": "orders",
    "utilization_ft": "share", "utilization_temps": "share", "utilization_bot": "share",
    "receptions_per_agent_ft": "chats/agent/day", "receptions_per_agent_temps": "chats/agent/day",
    "receptions_per_8h_ft": "chats/8 h on shift", "receptions_per_8h_temps": "chats/8 h on shift",
    "cost_labor": "CNY", "cost_overtime": "CNY", "cost_bot": "CNY", "cost_total": "CNY", "profit": "CNY",
    "waiting_at_end": "inquiries", "paid_at_once": "orders", "unpaid_orders": "orders",
    "overtime_h_ft": "h", "overtime_h_temps": "h", "forecast_multiplier": "x", "events": "events",
    "drops_under_30s_share": "share",
}

#: Extra numbers every run reports next to the public metrics (not part of the contract):
#: inquiries still waiting for a first reply at the horizon, orders paid at once and never
#: paid, hours worked past shift ends, the replication's forecast multiplier, events scheduled on
#: the clock plus follow-ups and nudges falling due (how the work was done: not pinned).
DIAGNOSTICS = (
    "waiting_at_end", "paid_at_once", "unpaid_orders", "overtime_h_ft", "overtime_h_temps", "forecast_multiplier",
    "events", "drops_under_30s_share",
)


def _div(a: float, b: float) -> float:
    return float(a) / float(b) if b else math.nan


def _waiting(start: np.ndarray, stop: np.ndarray, at: np.ndarray) -> np.ndarray:
    """How many of the spans [start, stop) contain each instant of ``at``."""
    stop = np.maximum(start, stop)
    return np.searchsorted(np.sort(start), at, side="right") - np.searchsorted(np.sort(stop), at, side="right")


def paid_mask(cfg: Config, rec: Records) -> np.ndarray:
    """Per customer: paid for an order (at once, or later with the nudged / un-nudged
    probability). The one definition of "paid", read by :func:`compute` and the planner."""
    order = np.asarray(rec.order, dtype=np.int64)
    unpaid = (order != NO_ORDER) & (order != PAID_NOW)
    pay_prob = np.where(order == UNPAID_NUDGED, cfg.nudge.nudged_pay_prob, cfg.nudge.unnudged_pay_prob)
    return (order == PAID_NOW) | (unpaid & (rec.customers.u_pay_later < pay_prob))


#: Taobao's 3-minute rule (``rr_3min``): the serving reply sent within this many seconds.
RR_3MIN_S = 180.0


def serving_reply(rec: Records) -> tuple[np.ndarray, np.ndarray]:
    """Per customer: (when the request was made, when its serving reply was sent): the
    arrival and the first reply, or after a bot hand-over the hand-over and the human's first
    reply (NaN: no serving reply). The one definition ``responded``, ``sl_30s`` and
    ``rr_3min`` read (docs/model.md#outputs), here and in the planner."""
    handover = np.asarray(rec.handover_t, dtype=float)
    handed = np.isfinite(handover)
    req = np.where(handed, handover, rec.customers.arrival)
    sent = np.where(handed, np.asarray(rec.human_sent, dtype=float), np.asarray(rec.first_sent, dtype=float))
    return req, sent


def answered_within(rec: Records, seconds: float = RR_3MIN_S) -> np.ndarray:
    """Per customer: the serving reply was sent within ``seconds`` of the request
    (``rr_3min``'s rule with 180 s, ``sl_30s``'s with 30 s; :func:`serving_reply`)."""
    req, sent = serving_reply(rec)
    with np.errstate(invalid="ignore"):
        return np.isfinite(sent) & (sent - req <= seconds)


def compute(cfg: Config, rec: Records) -> tuple[dict[str, float], pd.DataFrame]:
    """The metrics dict (``METRICS`` then ``DIAGNOSTICS``) and the per-interval table.

    ``waiting_at_end`` comes from the engine's own state (the shop queue and the hand-over queue
    at the horizon), not from the arrays lost and responded are read from, so the conservation
    identity inquiries = lost_before_reply + lost_after_handover + responded + waiting_at_end is
    a real check. Chats that began before the horizon run to their end (the drain), so a reply
    may start after the horizon.

    The *serving reply* (docs/model.md "Outputs") is the reply that met the customer's need:
    the first reply, or for a chat the bot handed over, the human's first reply after the
    hand-over. ``responded``, ``response_rate``, ``sl_30s`` and ``rr_3min`` read it (its time is
    counted from the request: the arrival, or the hand-over); ``avg_first_response_s`` and
    ``p90_first_response_s`` read the first reply whoever sent it."""
    c = rec.customers
    T = rec.horizon_s
    W = cfg.warmup_h * 3600.0
    arr = c.arrival
    keep = arr >= W
    fs = np.asarray(rec.first_start, dtype=float)
    sent = np.asarray(rec.first_sent, dtype=float)
    first_pool = np.asarray(rec.first_pool, dtype=np.int64)
    human_pool = np.asarray(rec.human_pool, dtype=np.int64)
    end = np.asarray(rec.end, dtype=np.int64)
    end_pool = np.asarray(rec.end_pool, dtype=np.int64)
    order = np.asarray(rec.order, dtype=np.int64)
    resp_sum = np.asarray(rec.resp_sum, dtype=float)
    resp_n = np.asarray(rec.resp_n, dtype=np.int64)
    handover = np.asarray(rec.handover_t, dtype=float)
    human_sent = np.asarray(rec.human_sent, dtype=float)
    deadline = arr + c.patience

    started = np.isfinite(fs)
    handed = np.isfinite(handover)
    # The serving reply: the first reply, or after a hand-over the human's first reply.
    serve_req, serve_sent = serving_reply(rec)
    served = np.isfinite(serve_sent)
    responded = served & keep
    # Lost before a first reply: it never started, and the customer left: at its deadline before
    # the horizon (shop queue or agent) or, queued at an agent, during the drain.
    lost_first_any = ~started & ((deadline <= T) | (end == ABANDONED))
    # Lost after a hand-over: no human reply started by the hand-over deadline.
    lost_ho_any = end == LOST_HANDOVER
    lost_any = lost_first_any | lost_ho_any
    frt = (sent - arr)[started & keep]
    ho = handed & served & keep
    ho_wait = human_sent[ho] - handover[ho]
    n = int(keep.sum())

    nudged = order == UNPAID_NUDGED
    paid_any = paid_mask(cfg, rec)
    paid_later = paid_any & (order != PAID_NOW)
    paid = paid_any & keep
    orders = int(((order != NO_ORDER) & keep).sum())

    m: dict[str, float] = {}
    m["inquiries"] = n
    m["lost_before_reply"] = int((lost_first_any & keep).sum())
    m["lost_after_handover"] = int((lost_ho_any & keep).sum())
    m["lost_inquiries"] = m["lost_before_reply"] + m["lost_after_handover"]
    m["lost_rate"] = _div(m["lost_inquiries"], n)
    m["responded"] = int(responded.sum())
    m["response_rate"] = _div(m["responded"], n)
    m["dropped_mid_chat"] = int(((end == DROPPED) & keep).sum())
    m["avg_handover_wait_s"] = float(ho_wait.mean()) if ho_wait.size else math.nan
    m["avg_first_response_s"] = float(frt.mean()) if frt.size else math.nan
    m["p90_first_response_s"] = float(np.percentile(frt, 90)) if frt.size else math.nan
    m["avg_response_s"] = _div(resp_sum[keep].sum(), resp_n[keep].sum())
    m["sl_30s"] = _div((answered_within(rec, 30.0) & keep).sum(), n)
    m["rr_3min"] = _div((answered_within(rec) & keep).sum(), n)
    # Receptions: chats a pool replied to (an escalated chat is one for the bot and one for the
    # human who takes it over).
    replied = started & keep
    bot_rec = int(((first_pool == BOT) & replied).sum())
    human_rec = int(((first_pool != BOT) & replied).sum() + ((human_pool >= 0) & keep).sum())
    m["bot_share"] = _div(bot_rec, bot_rec + human_rec)
    m["bot_resolved"] = int(((end == DONE) & (end_pool == BOT) & keep).sum())
    m["escalated"] = int((np.asarray(rec.escalated, dtype=bool) & keep).sum())
    m["orders"] = orders
    m["paid_orders"] = int(paid.sum())
    m["payment_rate"] = _div(m["paid_orders"], orders)
    m["inquiry_conversion"] = _div(m["paid_orders"], (c.presale & keep).sum())
    m["gmv"] = float(c.order_value[paid].sum())
    m["followups_done"] = int((np.asarray(rec.followup_done, dtype=bool) & keep).sum())
    m["followup_orders"] = int((np.asarray(rec.followup_order, dtype=bool) & keep).sum())
    m["nudges_done"] = int((nudged & keep).sum())
    m["nudged_paid"] = int((nudged & paid_later & keep).sum())

    # Pool and cost metrics over exactly [warm-up, horizon]; overtime (work after agents stopped
    # taking chats, the drain included) after the warm-up.
    edges = rec.edges_s
    lengths = np.diff(edges)
    span = np.array([W, T])
    heads_s = {p: head_seconds(g, edges) for p, g in rec.groups.items()}
    for p in POOLS:
        cap = head_seconds(rec.groups[p], span)[0] * (cfg.staffing.bot.concurrency if p == "bot" else 1)
        m[f"utilization_{p}"] = _div(rec.busy_w[p], cap)
    days = (cfg.horizon_h - cfg.warmup_h) / 24.0
    paid_h = {p: head_seconds(rec.groups[p], span, paid=True)[0] / 3600.0 for p in POOLS}
    for p, code in (("ft", FT), ("temps", TEMPS)):
        received = ((first_pool == code) & replied).sum() + ((human_pool == code) & keep).sum()
        # Per head and per day measured, and per 8 hours a head is on shift (paid, breaks
        # included), to read against the 150-200 a day rule of thumb.
        m[f"receptions_per_agent_{p}"] = _div(received, getattr(cfg.staffing, p).count * days)
        m[f"receptions_per_8h_{p}"] = _div(received, paid_h[p] / 8.0)

    cost = {}
    overtime = 0.0
    measured = 1.0 - cfg.warmup_h / cfg.horizon_h
    for p in POOLS:
        pool = getattr(cfg.staffing, p)
        cost[p] = paid_h[p] * pool.cost_per_hour + (pool.cost_fixed * measured if rec.groups[p] else 0.0)
        overtime += rec.overtime_w[p] / 3600.0 * pool.cost_per_hour
    m["cost_labor"] = float(cost["ft"] + cost["temps"])
    m["cost_overtime"] = float(overtime)
    m["cost_bot"] = float(cost["bot"])
    m["cost_total"] = m["cost_labor"] + m["cost_overtime"] + m["cost_bot"]
    m["profit"] = m["gmv"] * cfg.economics.gross_margin - m["cost_total"]

    m["waiting_at_end"] = int((rec.waiting_at_end & keep).sum())
    m["paid_at_once"] = int(((order == PAID_NOW) & keep).sum())
    m["unpaid_orders"] = orders - m["paid_orders"]
    m["overtime_h_ft"] = rec.overtime_w["ft"] / 3600.0
    m["overtime_h_temps"] = rec.overtime_w["temps"] / 3600.0
    m["forecast_multiplier"] = float(c.multiplier)
    m["events"] = int(rec.events)
    # Of the mid-chat drops, the share whose customer had waited under 30 s for the reply (a
    # customer in a live chat should not walk out after seconds: docs/model.md "Abandonment").
    dropped = (end == DROPPED) & keep
    m["drops_under_30s_share"] = _div((np.asarray(rec.drop_wait, dtype=float)[dropped] < 30.0).sum(), dropped.sum())

    # Per planning interval, customers by the interval they arrived in (both kinds of loss,
    # and the serving reply, by the arrival's interval); waiting counts at each interval's end
    # (alive, no first reply started yet).
    nb = lengths.size
    b = np.minimum((arr // (cfg.interval_min * 60.0)).astype(np.int64), nb - 1)
    frt_all = np.where(started, sent - arr, 0.0)
    n_first = np.bincount(b, weights=started, minlength=nb)
    n_resp = np.bincount(b, weights=served, minlength=nb)
    arrivals = np.bincount(b, minlength=nb)
    n_lost = np.bincount(b, weights=lost_any, minlength=nb).astype(np.int64)
    assigned = np.asarray(rec.assigned, dtype=float)
    iv = pd.DataFrame(
        {
            "start_h": edges[:-1] / 3600.0,
            "end_h": edges[1:] / 3600.0,
            "arrivals": arrivals,
            "lost": n_lost,
            "lost_after_handover": np.bincount(b, weights=lost_ho_any, minlength=nb).astype(np.int64),
            "lost_rate": n_lost / np.where(arrivals > 0, arrivals, np.nan),
            "responded": n_resp.astype(np.int64),
            "mean_first_response_s": np.bincount(b, weights=frt_all, minlength=nb) / np.where(n_first > 0, n_first, np.nan),
            "waiting_queue": _waiting(arr, np.minimum(assigned, deadline), edges[1:]),
            "waiting_agent": _waiting(assigned, np.minimum(fs, deadline), edges[1:]),
        }
    )
    for p in POOLS:
        iv[f"heads_{p}"] = heads_s[p] / lengths
    busy = {p: np.asarray(x, dtype=float) for p, x in rec.busy_s.items()}
    for p in POOLS:
        cap = heads_s[p] * (cfg.staffing.bot.concurrency if p == "bot" else 1)
        with np.errstate(invalid="ignore", divide="ignore"):
            iv[f"utilization_{p}"] = np.where(cap > 0, busy[p] / cap, np.nan)
    iv.index.name = "interval"
    return m, iv
