"""The chat log: one row per inquiry, in the schema a shop exports (docs/calibration.md#the-chat-log),
built after a run from either engine's :class:`~cssim.model.records.Records`.

Nothing here runs during the simulation: the engine only keeps a few per-customer facts it
sets once per chat (who held the chat last, when it ended, when an order was placed), and this
module turns them into wall-clock rows. ``cssim.calibrate`` reads the same schema back.

Columns (times are timezone-aware instants; empty = NaT/NaN/""):

==============  =======================================================================
inquiry_id      ``YYYYMMDD-NNNNNN``: the day's date and the inquiry's number that day
arrival_ts      the first message
kind            ``presale`` or ``aftersale``
returning       returning customer (true/false)
first_reply_ts  the first reply was *sent* (typing done), possibly after the horizon for a
                chat taken before it (the drain); empty if none or the customer left first
left_ts         the customer left unserved, a lost inquiry: before the first reply started
                (= arrival + patience), or after a bot hand-over before a human's reply
                started (= handover_ts + hand-over patience); empty otherwise. Silent and
                visible leavers alike: every lost inquiry has one, and only they do
pool            the pool that sent the first reply (``bot`` for an escalated chat), or of the
                agent that held a lost inquiry; empty if no agent ever took it
agent_id        the agent who held the chat last (an escalated chat's human), ``POOL-N``
customer_msgs   messages the customer wrote (turns started); 1 for a lost inquiry
replies         replies the customer received
end_ts          the chat ended: last reply sent, a mid-chat drop, or a lost inquiry's chat
                closed (at ``left_ts``, or when the agent's wasted reply to a silent leaver was
                sent); empty if the chat never began (still in the shop queue at the horizon)
ordered         an order was placed (at the chat's end, or after a follow-up)
order_ts        when the order was placed
paid_ts         paid at once: ``order_ts``. Paid later: the model has no payment instant for
                these ("whenever"), so the log stamps the close of the nudge window,
                ``order_ts + nudge.after_min + nudge.window_min``: after any nudge could have
                been the reason. Empty if never paid
nudged          a payment nudge was sent
followed_up     a follow-up reply was sent
order_value     CNY, for orders only
handover_ts     the bot handed the chat to a human (the customer asked for one); empty if not
human_reply_ts  after a hand-over, the human's first reply was sent; empty if none
==============  =======================================================================

The last two columns are optional when a log is read back (:mod:`cssim.calibrate.logs`): a
shop without a bot has none, and a log without them keeps the hand-over patience from the base.

Day ``d`` of a multi-day log is replication ``d``, starting ``start + d x ceil(horizon_h / 24)``
days. The log covers the whole horizon, warm-up included.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from cssim.config import POOLS, Config, start_instant
from cssim.model.records import ABANDONED, DONE, LOST_HANDOVER, NO_ORDER, PAID_NOW, UNPAID_NUDGED, Records
from cssim.io import write_atomic
from cssim.metrics import paid_mask

#: The log's columns, in order (docs/calibration.md#the-chat-log).
COLUMNS = (
    "inquiry_id", "arrival_ts", "kind", "returning", "first_reply_ts", "left_ts", "pool", "agent_id",
    "customer_msgs", "replies", "end_ts", "ordered", "order_ts", "paid_ts", "nudged", "followed_up",
    "order_value", "handover_ts", "human_reply_ts",
)
#: Columns a log may leave out (a shop without a bot hand-over).
OPTIONAL_COLUMNS = ("handover_ts", "human_reply_ts")
TIME_COLUMNS = ("arrival_ts", "first_reply_ts", "left_ts", "end_ts", "order_ts", "paid_ts", "handover_ts", "human_reply_ts")
BOOL_COLUMNS = ("returning", "ordered", "nudged", "followed_up")
POOL_NAMES = POOLS


def day_origin(cfg: Config, replication: int) -> pd.Timestamp:
    """Wall-clock instant of replication ``replication``'s clock 0: ``start`` plus whole days."""
    days = replication * max(1, math.ceil(cfg.horizon_h / 24.0))
    return pd.Timestamp(start_instant(cfg)) + pd.Timedelta(days=days)


def build_log(cfg: Config, rec: Records, replication: int = 0) -> pd.DataFrame:
    """The chat log of one replication (columns :data:`COLUMNS`), vectorised over customers.

    Consistent with :mod:`cssim.metrics` by construction: a row has ``left_ts`` exactly when the
    inquiry counts as lost (either kind), a serving reply (``first_reply_ts`` without
    ``handover_ts``, or ``human_reply_ts``) exactly when it counts as responded, and ``paid_ts``
    exactly when its order counts as paid."""
    c = rec.customers
    n = c.n
    T = rec.horizon_s
    arr = c.arrival
    fs = np.asarray(rec.first_start, dtype=float)
    end = np.asarray(rec.end, dtype=np.int64)
    # As cssim.metrics: chats that began before the horizon run to their end (the drain), so a
    # first reply may start after it; lost = never started and left (deadline before the
    # horizon, or queued at an agent during the drain).
    responded = np.isfinite(fs)
    deadline = arr + c.patience
    lost = ~responded & ((deadline <= T) | (end == ABANDONED))
    handover = np.asarray(rec.handover_t, dtype=float)
    lost_ho = end == LOST_HANDOVER
    human_sent = np.asarray(rec.human_sent, dtype=float)
    end_t = np.asarray(rec.end_t, dtype=float)
    left = np.where(lost, deadline, np.where(lost_ho, handover + c.handover_patience, np.nan))
    end_s = np.where(np.isfinite(end_t), end_t, left)

    # Who held the chat last, by index into rec.agents (-1: never assigned); names per agent once.
    last = np.asarray(rec.last_agent, dtype=np.int64)
    names = np.array([a.pool.name for a in rec.agents] + [""], dtype=object)
    ids = np.array([f"{a.pool.name}-{a.id}" for a in rec.agents] + [""], dtype=object)
    agent_pool = names[last]  # -1 picks the trailing ""
    agent_id = ids[last]
    first_pool = np.asarray(rec.first_pool, dtype=np.int64)
    pool = np.where(responded & (first_pool >= 0), np.array(POOL_NAMES + ("",), dtype=object)[first_pool], agent_pool)

    turn = np.asarray(rec.turn, dtype=np.int64)
    turns = np.asarray(rec.turns, dtype=np.int64)
    msgs = np.where(end == DONE, turns, np.where(end == ABANDONED, 1, turn))
    msgs = np.where(lost, 1, msgs)  # (a hand-over loss wrote its hand-over message: ``turn``)

    order = np.asarray(rec.order, dtype=np.int64)
    ordered = order != NO_ORDER
    order_t = np.where(ordered, np.asarray(rec.order_t, dtype=float), np.nan)
    nudged = order == UNPAID_NUDGED
    nu = cfg.nudge
    paid_later = paid_mask(cfg, rec) & (order != PAID_NOW)  # the metrics' one rule of "paid"
    later_s = (nu.after_min + nu.window_min) * 60.0
    paid_t = np.where(order == PAID_NOW, order_t, np.where(paid_later, order_t + later_s, np.nan))

    origin = day_origin(cfg, replication)

    def ts(seconds: np.ndarray) -> pd.Series:
        return pd.Series(origin + pd.to_timedelta(seconds, unit="s"))

    day = origin.strftime("%Y%m%d")
    df = pd.DataFrame(
        {
            "inquiry_id": [f"{day}-{i + 1:06d}" for i in range(n)],
            "arrival_ts": ts(arr),
            "kind": np.where(c.presale, "presale", "aftersale"),
            "returning": c.returning.astype(bool),
            "first_reply_ts": ts(np.where(responded, np.asarray(rec.first_sent, dtype=float), np.nan)),
            "left_ts": ts(left),
            "pool": pool,
            "agent_id": agent_id,
            "customer_msgs": msgs,
            "replies": np.asarray(rec.resp_n, dtype=np.int64),
            "end_ts": ts(end_s),
            "ordered": ordered,
            "order_ts": ts(order_t),
            "paid_ts": ts(paid_t),
            "nudged": nudged,
            "followed_up": np.asarray(rec.followup_done, dtype=bool),
            "order_value": np.where(ordered, np.round(c.order_value, 2), np.nan),
            "handover_ts": ts(np.where(np.isfinite(handover), handover, np.nan)),
            "human_reply_ts": ts(np.where(np.isfinite(human_sent), human_sent, np.nan)),
        }
    )
    return df


def _iso(s: pd.Series) -> pd.Series:
    """ISO 8601 with milliseconds and a ``+HH:MM`` offset; empty for NaT."""
    out = s.dt.strftime("%Y-%m-%dT%H:%M:%S.%f").str[:-3] + s.dt.strftime("%z").str.replace(r"(\d\d)$", r":\1", regex=True)
    return out.fillna("")


def to_csv_frame(log: pd.DataFrame) -> pd.DataFrame:
    """The log as CSV cells: ISO 8601 times, ``true``/``false``, empty cells for missing values."""
    out = log.copy()
    for col in TIME_COLUMNS:
        out[col] = _iso(log[col])
    for col in BOOL_COLUMNS:
        out[col] = np.where(log[col].to_numpy(dtype=bool), "true", "false")
    return out


def write_log(folder: Path, log: pd.DataFrame) -> list[Path]:
    """Write ``chats.parquet`` and ``chats.csv`` into ``folder``, each atomically."""
    folder = Path(folder)
    pq, csv = folder / "chats.parquet", folder / "chats.csv"
    write_atomic(pq, lambda p: log.to_parquet(p, index=False, engine="pyarrow"))
    cells = to_csv_frame(log)
    write_atomic(csv, lambda p: cells.to_csv(p, index=False, na_rep=""))
    return [pq, csv]
