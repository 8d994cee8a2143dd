"""Reading a chat log (CSV or Parquet) and checking it, row by row, before anything is fitted.

A log is the schema of :mod:`cssim.chatlog`. Times may be ISO 8601 (with or without a UTC
offset: without one, the base scenario's offset is assumed) or epoch seconds. A bad log raises
:class:`LogError` whose one-line message names the column and the first bad row (data rows
count from 1; in a CSV, row N is on line N + 1).

:class:`LogData` holds the rows as numpy arrays in seconds since their day's clock 0: the
base scenario's ``start`` (its time of day and offset) on the calendar day of the log's first
inquiry; day ``d`` starts ``d x ceil(horizon_h / 24)`` days later, as a simulated log's do.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from cssim.chatlog import BOOL_COLUMNS, COLUMNS, OPTIONAL_COLUMNS, POOL_NAMES, TIME_COLUMNS


class LogError(ValueError):
    """A log that cannot be calibrated from; the message is one line."""


_TRUE = {"true", "1", "yes", "t", "y"}
_FALSE = {"false", "0", "no", "f", "n"}
_EPOCH = re.compile(r"^\s*-?\d+(\.\d*)?\s*$")
_OFFSET = re.compile(r"(?:Z|[+-]\d\d:?\d\d)$")


def read_log(path: Path) -> pd.DataFrame:
    """The raw table of a ``.csv`` or ``.parquet`` log (CSV cells kept as text)."""
    path = Path(path)
    if not path.is_file():
        raise LogError(f"{path}: no such log file")
    if path.stat().st_size == 0:
        raise LogError(f"{path}: empty log (no rows)")
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            df = pd.read_parquet(path)
        else:
            df = pd.read_csv(path, dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError:
        raise LogError(f"{path}: empty log (no rows)") from None
    except Exception as e:
        raise LogError(f"{path}: cannot read it as {'Parquet' if path.suffix.lower() in ('.parquet', '.pq') else 'CSV'} ({str(e).splitlines()[0] if str(e) else type(e).__name__})") from None
    if len(df) == 0:
        raise LogError(f"{path}: empty log (no rows)")
    return df


def _bad(col: str, i: int, what: str) -> LogError:
    return LogError(f"column {col!r}, row {i + 1}: {what}")


def _blank(s: pd.Series) -> np.ndarray:
    if s.dtype == object or pd.api.types.is_string_dtype(s):
        return s.isna().to_numpy() | (s.astype(str).str.strip() == "").to_numpy()
    return s.isna().to_numpy()


def _times(s: pd.Series, col: str, tz) -> pd.Series:
    """Instants (UTC) of one time column; NaT where empty."""
    if pd.api.types.is_datetime64_any_dtype(s):
        out = s if s.dt.tz is not None else s.dt.tz_localize(tz)
        return out.dt.tz_convert("UTC")
    if pd.api.types.is_numeric_dtype(s):
        return pd.to_datetime(s.astype(float), unit="s", utc=True)
    txt = s.astype(str).str.strip()
    blank = _blank(s)
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns, UTC]")
    epoch = txt.str.match(_EPOCH) & ~blank
    if epoch.any():
        out[epoch] = pd.to_datetime(txt[epoch].astype(float), unit="s", utc=True)
    iso = ~epoch & ~blank
    if iso.any():
        vals = txt[iso]
        aware = vals.str.contains(_OFFSET)
        parsed = pd.Series(pd.NaT, index=vals.index, dtype="datetime64[ns, UTC]")
        if aware.any():
            parsed[aware] = pd.to_datetime(vals[aware], format="ISO8601", utc=True, errors="coerce")
        if (~aware).any():
            naive = pd.to_datetime(vals[~aware], format="ISO8601", errors="coerce")
            parsed[~aware] = naive.dt.tz_localize(tz).dt.tz_convert("UTC")
        bad = parsed.isna()
        if bad.any():
            idx = bad.idxmax()
            raise _bad(col, s.index.get_loc(idx), f"cannot read {s[idx]!r} as a time (ISO 8601 or epoch seconds)")
        out[iso] = parsed
    return out


def _bools(s: pd.Series, col: str) -> np.ndarray:
    if pd.api.types.is_bool_dtype(s):
        return s.to_numpy(dtype=bool)
    txt = s.astype(str).str.strip().str.lower()
    ok = txt.isin(_TRUE | _FALSE).to_numpy()
    if not ok.all():
        i = int(np.argmin(ok))
        raise _bad(col, i, f"{s.iloc[i]!r} is not true/false")
    return txt.isin(_TRUE).to_numpy()


def _counts(s: pd.Series, col: str) -> np.ndarray:
    x = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(x) | (x < 0) | (x != np.floor(x))
    if bad.any():
        i = int(np.argmax(bad))
        raise _bad(col, i, f"{s.iloc[i]!r} is not a whole number >= 0")
    return x.astype(np.int64)


@dataclass
class LogData:
    """A checked log. Times in seconds since the row's day origin (NaN where empty)."""

    source: str
    origin: pd.Timestamp  # clock 0 of day 0 (wall clock, the base scenario's offset)
    period_s: float  # from one day's clock 0 to the next
    horizon_s: float
    n_days: int
    inquiry_id: np.ndarray
    day: np.ndarray
    arrival: np.ndarray
    first_reply: np.ndarray
    left: np.ndarray
    end: np.ndarray
    order: np.ndarray
    paid: np.ndarray
    presale: np.ndarray
    returning: np.ndarray
    pool: np.ndarray  # "", ft, temps, bot
    agent_id: np.ndarray
    agent_pool: np.ndarray  # the pool named by agent_id's prefix ("" if none): who held the chat last
    customer_msgs: np.ndarray
    replies: np.ndarray
    ordered: np.ndarray
    nudged: np.ndarray
    followed_up: np.ndarray
    order_value: np.ndarray
    handover: np.ndarray  # the bot handed the chat to a human (NaN: never)
    human_reply: np.ndarray  # the human's first reply after the hand-over was sent (NaN: none)

    @property
    def n(self) -> int:
        return int(self.arrival.size)

    @property
    def lost(self) -> np.ndarray:
        """Lost inquiries, both kinds (docs/model.md "Abandonment")."""
        return np.isfinite(self.left)

    @property
    def lost_first(self) -> np.ndarray:
        """Left before a first reply started."""
        return np.isfinite(self.left) & ~np.isfinite(self.first_reply)

    @property
    def lost_handover(self) -> np.ndarray:
        """Left after a bot hand-over before a human reply started."""
        return np.isfinite(self.left) & np.isfinite(self.first_reply)

    @property
    def replied(self) -> np.ndarray:
        """Got a first reply (from anyone): what first-reply patience is censored by."""
        return np.isfinite(self.first_reply)

    @property
    def responded(self) -> np.ndarray:
        """Got a serving reply: the first reply, or after a hand-over a human's."""
        served = np.where(np.isfinite(self.handover), np.isfinite(self.human_reply), np.isfinite(self.first_reply))
        return served & ~self.lost


def check_log(df: pd.DataFrame, start: pd.Timestamp, horizon_h: float, source: str = "log") -> LogData:
    """Check every column of a raw log and convert it; raise :class:`LogError` at the first
    problem (columns in schema order, then rows in file order)."""
    needed = [c for c in COLUMNS if c not in OPTIONAL_COLUMNS]
    missing = [c for c in needed if c not in df.columns]
    if missing:
        raise LogError(f"column {missing[0]!r} missing (a log needs: {', '.join(needed)})")
    if len(df) == 0:
        raise LogError("empty log (no rows)")
    df = df.reset_index(drop=True)
    for col in OPTIONAL_COLUMNS:
        if col not in df.columns:
            df[col] = ""  # a shop without hand-overs
    tz = start.tzinfo
    times = {}
    for col in TIME_COLUMNS:
        times[col] = _times(df[col], col, tz)
    if times["arrival_ts"].isna().any():
        raise _bad("arrival_ts", int(np.argmax(times["arrival_ts"].isna().to_numpy())), "empty: every inquiry needs its arrival time")
    ids = df["inquiry_id"].astype(str)
    dup = ids.duplicated().to_numpy()
    if dup.any():
        i = int(np.argmax(dup))
        raise _bad("inquiry_id", i, f"{ids.iloc[i]!r} appears twice")
    kind = df["kind"].astype(str).str.strip().str.lower()
    ok = kind.isin(["presale", "aftersale"]).to_numpy()
    if not ok.all():
        i = int(np.argmin(ok))
        raise _bad("kind", i, f"{df['kind'].iloc[i]!r} is not presale or aftersale")
    bools = {c: _bools(df[c], c) for c in BOOL_COLUMNS}
    pool = df["pool"].fillna("").astype(str).str.strip().str.lower()
    ok = pool.isin(list(POOL_NAMES) + [""]).to_numpy()
    if not ok.all():
        i = int(np.argmin(ok))
        raise _bad("pool", i, f"{df['pool'].iloc[i]!r} is not ft, temps, bot or empty")
    msgs = _counts(df["customer_msgs"], "customer_msgs")
    replies = _counts(df["replies"], "replies")
    value = pd.to_numeric(df["order_value"].replace("", np.nan), errors="coerce").to_numpy(dtype=float)
    bad = (~_blank(df["order_value"]) & ~np.isfinite(value)) | (value < 0)
    if bad.any():
        i = int(np.argmax(bad))
        raise _bad("order_value", i, f"{df['order_value'].iloc[i]!r} is not an amount >= 0 (CNY)")

    arr = times["arrival_ts"]
    # Order of time checks: each later instant against the one it must follow.
    rules = (
        ("first_reply_ts", "arrival_ts", "first reply before the arrival"),
        ("left_ts", "arrival_ts", "left before arriving (negative wait)"),
        ("end_ts", "arrival_ts", "chat ended before the arrival (negative duration)"),
        ("order_ts", "arrival_ts", "order before the arrival (negative duration)"),
        ("paid_ts", "order_ts", "paid before the order (negative duration)"),
        ("handover_ts", "first_reply_ts", "hand-over before the bot's first reply"),
        ("human_reply_ts", "handover_ts", "human reply before the hand-over"),
    )
    for col, ref, what in rules:
        d = (times[col] - times[ref]).dt.total_seconds().to_numpy()
        bad = np.isfinite(d) & (d < -1e-3)
        if bad.any():
            i = int(np.argmax(bad))
            raise _bad(col, i, f"{what}: {times[col].iloc[i].tz_convert(tz).isoformat()} is {-d[i]:.3f} s before {ref} {times[ref].iloc[i].tz_convert(tz).isoformat()}")
    if col_bad := _first(bools["ordered"] & times["order_ts"].isna().to_numpy()):
        raise _bad("order_ts", col_bad - 1, "ordered=true but no order time")
    if col_bad := _first(times["paid_ts"].notna().to_numpy() & times["order_ts"].isna().to_numpy()):
        raise _bad("paid_ts", col_bad - 1, "a payment without an order time")

    # Days: the base's clock 0 on the first inquiry's calendar day, then every period.
    period = pd.Timedelta(days=max(1, math.ceil(horizon_h / 24.0)))
    start = pd.Timestamp(start)
    first = arr.min().tz_convert(start.tzinfo)
    k = math.floor((first - start) / pd.Timedelta(days=1))
    origin = start + pd.Timedelta(days=k)
    if origin > first:
        origin -= pd.Timedelta(days=1)
    origin_utc = origin.tz_convert("UTC")
    day = np.floor(((arr - origin_utc) / period).to_numpy(dtype=float)).astype(np.int64)
    day_start = origin_utc + pd.to_timedelta(day * period.total_seconds(), unit="s")

    def secs(col: str) -> np.ndarray:
        return (times[col] - day_start).dt.total_seconds().to_numpy(dtype=float)

    a = secs("arrival_ts")
    horizon_s = horizon_h * 3600.0
    bad = a >= horizon_s
    if bad.any():
        i = int(np.argmax(bad))
        raise _bad("arrival_ts", i, f"{a[i] / 3600:.2f} h into its day, past the base scenario's horizon_h={horizon_h:g} (use a base whose horizon covers the log's day)")
    agent = df["agent_id"].fillna("").astype(str).str.strip()
    prefix = agent.str.split("-", n=1).str[0].str.lower()
    # Agent ids named POOL-N say whose the chat was last (an escalated chat's human); other ids
    # are taken to belong to the row's pool.
    agent_pool = np.where(prefix.isin(POOL_NAMES), prefix, np.where(agent != "", pool, ""))
    return LogData(
        source=source, origin=origin, period_s=period.total_seconds(), horizon_s=horizon_s, n_days=int(day.max()) + 1,
        inquiry_id=ids.to_numpy(), day=day, arrival=a, first_reply=secs("first_reply_ts"), left=secs("left_ts"),
        end=secs("end_ts"), order=secs("order_ts"), paid=secs("paid_ts"), presale=(kind == "presale").to_numpy(),
        returning=bools["returning"], pool=pool.to_numpy(dtype=object), agent_id=agent.to_numpy(dtype=object),
        agent_pool=agent_pool.astype(object), customer_msgs=msgs, replies=replies, ordered=bools["ordered"],
        nudged=bools["nudged"], followed_up=bools["followed_up"], order_value=value,
        handover=secs("handover_ts"), human_reply=secs("human_reply_ts"),
    )


def _first(mask: np.ndarray) -> int:
    """1 + index of the first True (0 if none), so it can be tested for truth."""
    return int(np.argmax(mask)) + 1 if mask.any() else 0


def load_log(path: Path, start: pd.Timestamp, horizon_h: float) -> LogData:
    """Read and check a log file (see :func:`check_log`); errors name the file."""
    raw = read_log(path)
    try:
        return check_log(raw, start, horizon_h, source=str(path))
    except LogError as e:
        raise LogError(f"{path}: {e}") from None


def from_frame(df: pd.DataFrame, start: pd.Timestamp, horizon_h: float) -> LogData:
    """A log already in memory (e.g. ``Result.log``) as :class:`LogData`."""
    return check_log(df, start, horizon_h, source="frame")


# ------------------------------------------------------------------------------------------ KPIs

KPI_NAMES = ("lost_rate", "response_rate", "avg_first_response_s", "inquiry_conversion")
KPI_UNITS = {"lost_rate": "share", "response_rate": "share", "avg_first_response_s": "s", "inquiry_conversion": "share"}


def kpis(L: LogData, days: np.ndarray | None = None) -> dict[str, float]:
    """The back-test's KPIs from a log, as :mod:`cssim.metrics` defines them: lost rate (both
    kinds), response rate (a serving reply), mean first response (s, sent - arrival, over
    inquiries with a first reply), inquiry conversion (paid presale orders / presale
    inquiries). ``days`` restricts to those days."""
    keep = np.ones(L.n, dtype=bool) if days is None else np.isin(L.day, days)
    n = keep.sum()
    lost = L.lost & keep
    resp = L.responded & keep
    pre = L.presale & keep
    frt = (L.first_reply - L.arrival)[L.replied & keep]
    paid = np.isfinite(L.paid) & pre
    return {
        "lost_rate": lost.sum() / n if n else math.nan,
        "response_rate": resp.sum() / n if n else math.nan,
        "avg_first_response_s": float(frt.mean()) if frt.size else math.nan,
        "inquiry_conversion": paid.sum() / pre.sum() if pre.sum() else math.nan,
    }


def interval_kpis(L: LogData, interval_s: float) -> pd.DataFrame:
    """Per day and planning interval (by arrival): arrivals, lost, lost rate, mean first response (s)."""
    nb = int(math.ceil(L.horizon_s / interval_s - 1e-9))
    b = np.minimum((L.arrival // interval_s).astype(np.int64), nb - 1)
    rows = []
    frt = L.first_reply - L.arrival
    for d in range(L.n_days):
        m = L.day == d
        arrivals = np.bincount(b[m], minlength=nb)
        lost = np.bincount(b[m], weights=L.lost[m], minlength=nb)
        resp = L.replied[m]
        n_resp = np.bincount(b[m], weights=resp, minlength=nb)
        s_frt = np.bincount(b[m], weights=np.where(resp, frt[m], 0.0), minlength=nb)
        with np.errstate(invalid="ignore", divide="ignore"):
            rows.append(pd.DataFrame({
                "day": d, "interval": np.arange(nb), "start_h": np.arange(nb) * interval_s / 3600.0,
                "arrivals": arrivals, "lost": lost.astype(np.int64),
                "lost_rate": np.where(arrivals > 0, lost / np.maximum(arrivals, 1), np.nan),
                "mean_first_response_s": np.where(n_resp > 0, s_frt / np.maximum(n_resp, 1), np.nan),
            }))
    return pd.concat(rows, ignore_index=True)
