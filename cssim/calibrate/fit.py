"""From a checked log to a scenario: which rows identify which parameter, and how.

What a log row shows is an inquiry's arrival, its first reply's *sent* instant, when it left (if
it left unanswered), who held it, how many messages and replies it had, when it ended, and its
order and payment. Per-message instants are not in it. So:

* **Arrivals**: counts per day and planning interval; volume = mean daily total, profile = mean
  count per interval (the scenario's ``arrivals.weights``), day-to-day gamma dispersion
  ``forecast_cv`` by moments (variance beyond Poisson) when the log spans several days.
* **Reply (typing) time per pool**: identified where nothing queued ahead of the reply. A human
  who held no other chat when an inquiry arrived starts its first reply at once, so
  first_reply - arrival *is* the typing time ("idle starts"). The bot never queues replies, so
  its first-response times are its typing times. Family by AIC (exponential, lognormal, gamma);
  a pool's ``speed`` = full-time mean / its mean.
* **Think time**: in a human chat that the agent held alone from arrival to end (and in a bot
  chat) nothing queues at the agent, so (end - first reply) / (replies - 1) = think + typing per
  turn; think mean = that minus the pool's typing mean. Its family and cv are kept from the base.
* **Patience**: a lost inquiry is an event at left - arrival; an answered one is censored at the
  instant its first reply *started*, estimated as sent - the pool's mean typing time (the log
  has only the sent instant); one still waiting at the day's end is censored there.
  Kaplan-Meier, then exponential vs lognormal by censored maximum likelihood and AIC.
* **Turns**: customer messages of complete chats; a mid-chat drop (more messages than replies)
  had at least that many turns (censored). Escalated chats are left out (escalation can add a
  turn). Constant, 1 + Poisson or geometric by censored likelihood and AIC.
* **Shares and funnel**: presale and returning shares; order probability (with each pool's
  conversion factor relative to full-time) by maximum likelihood over complete presale chats,
  through the base's response-delay effect, each chat's mean response time reconstructed as
  (first response + (end - first reply) - (replies - 1) x think mean) / replies; pay-now = paid
  within ``nudge.after_min`` of ordering; nudged / un-nudged later payment; follow-up
  conversion; bot resolve probability = bot-first chats the bot closed; order value.

What a log cannot identify is kept from the base scenario and listed with the reason
(:data:`KEPT`).
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, stats

from cssim.calibrate.estimators import (
    Z95, DurationFit, Estimate, best_duration, fit_turns, kaplan_meier, mean_t, wilson,
)
from cssim.calibrate.logs import LogData
from cssim.config import POOLS, Config, Dist, validate

HUMANS = tuple(p for p in POOLS if p != "bot")

#: Parameters a log cannot identify, kept from the base scenario, with the reason.
KEPT = (
    ("staffing.*.count, shifts, shrinkage, cost_*", "a log shows who answered, not who was rostered or what they cost"),
    ("staffing.*.concurrency", "the most chats an agent held at once is only a lower bound (reported below)"),
    ("customers.silent_share", "a real export cannot tell a silent leaver from a customer who got one reply and never wrote again"),
    ("customers.midchat_patience", "per-message instants are not logged, so a mid-chat wait is never observed"),
    ("conversation.think_s dist and cv", "only a per-chat mean of think + typing is observed; its mean is fitted"),
    ("funnel.delay_effect", "needs each reply's response time; the log has the first one only"),
    ("routing.*: policy, takeover, escalation turns and priority", "routing rules and the bot/human split of an escalated chat's replies are not in the log"),
    ("followup/nudge timing (after_min, window_min, include_drops)", "task instants are not logged"),
    ("economics.*, seed, replications, horizon_h, warmup_h", "not about behaviour"),
)


@dataclass
class Calibration:
    """The outcome: the calibrated scenario, every estimate, and what the charts need."""

    config: Config
    estimates: list[Estimate]
    kept: list[tuple[str, str]]
    notes: list[str] = field(default_factory=list)
    counts: np.ndarray | None = None  # arrivals per day and interval
    patience_km: object = None
    patience_fits: dict = field(default_factory=dict)
    patience_data: tuple | None = None
    reply_samples: dict = field(default_factory=dict)
    reply_fits: dict = field(default_factory=dict)

    def table(self) -> pd.DataFrame:
        """The fit report: parameter, estimate, 95% CI, n, unit, method."""
        rows = []
        for e in self.estimates:
            rows.append({
                "parameter": e.key,
                "estimate": e.text if e.text is not None else _num(e.value),
                "ci95": "" if e.text is not None or not np.isfinite(e.lo) else f"{_num(e.lo)} - {_num(e.hi)}",
                "n": e.n,
                "unit": e.unit,
                "method": e.method,
            })
        return pd.DataFrame(rows)


def _num(x: float) -> str:
    if not np.isfinite(x):
        return "n/a"
    a = abs(x)
    if a >= 10 and x == int(x):
        return f"{x:,.0f}"
    if a >= 1000:
        return f"{x:,.0f}"
    if a >= 100:
        return f"{x:.1f}"
    if a >= 1:
        return f"{x:.3g}" if a < 10 else f"{x:.2f}"
    return f"{x:.4f}"


# ---------------------------------------------------------------------------------- helpers
def _agent_overlaps(L: LogData) -> tuple[np.ndarray, np.ndarray]:
    """Per row: was the agent holding another chat when this one arrived (``busy_at_arrival``),
    and did another chat of that agent arrive before this one ended (``shared_later``)? Chats
    occupy their agent from arrival to end (open chats to the day's end)."""
    busy = np.ones(L.n, dtype=bool)
    shared = np.ones(L.n, dtype=bool)
    has = L.agent_id != ""
    if not has.any():
        return busy, shared
    idx = np.flatnonzero(has)
    end = np.where(np.isfinite(L.end), L.end, L.horizon_s * 10)
    # An escalated chat occupies its human only from the hand-over, unknown here: from arrival is
    # conservative (it can only exclude more chats).
    df = pd.DataFrame({"row": idx, "agent": L.agent_id[idx], "day": L.day[idx], "a": L.arrival[idx], "e": end[idx]})
    df = df.sort_values(["agent", "day", "a"], kind="stable")
    g = df.groupby(["agent", "day"], sort=False)
    prev_max_end = g["e"].cummax().groupby([df["agent"], df["day"]]).shift(1)
    next_arrival = g["a"].shift(-1)
    busy[df["row"].to_numpy()] = (prev_max_end > df["a"]).to_numpy()  # NaN (first of the day) -> False
    shared[df["row"].to_numpy()] = (next_arrival < df["e"]).to_numpy()
    return busy, shared


def _open_at_arrival(L: LogData, pooled: np.ndarray | None = None) -> np.ndarray:
    """Per row: how many other chats its agent held when it arrived (arrival to end; an
    over-count for chats that queued first, so a test for "a slot was free" stays safe).
    ``pooled``: count over these rows as one server instead, per day."""
    out = np.zeros(L.n, dtype=np.int64)
    has = np.flatnonzero((L.agent_id != "") if pooled is None else pooled)
    if not has.size:
        return out
    end = np.where(np.isfinite(L.end), L.end, np.inf)
    who = L.agent_id[has] if pooled is None else np.full(has.size, "pool", dtype=object)
    df = pd.DataFrame({"row": has, "agent": who, "day": L.day[has], "a": L.arrival[has], "e": end[has]})
    for _, g in df.groupby(["agent", "day"], sort=False):
        a, e, rows = g["a"].to_numpy(), np.sort(g["e"].to_numpy()), g["row"].to_numpy()
        a_sorted = np.sort(a)
        # arrived strictly before (itself excluded) minus ended by then
        out[rows] = np.searchsorted(a_sorted, a, side="left") - np.searchsorted(e, a, side="right")
    return np.maximum(out, 0)


def _dist_estimates(key: str, fit: DurationFit, fits: dict, method: str) -> list[Estimate]:
    aic = ", ".join(f"{f} {v.aic:,.1f}" for f, v in fits.items())
    out = [Estimate(f"{key}.dist", math.nan, math.nan, math.nan, fit.n, f"lowest AIC ({aic})", "", fit.family)]
    out.append(Estimate(f"{key}.mean", fit.mean, *fit.mean_ci, fit.n, method, "s"))
    if fit.family != "exponential":
        out.append(Estimate(f"{key}.cv", fit.cv, *fit.cv_ci, fit.n, method, ""))
    return out


# ---------------------------------------------------------------------------------- the fit
def calibrate(L: LogData, base: Config, interval_min: float = 15.0, min_sample: int = 20) -> Calibration:
    """Fit every parameter the log identifies; everything else comes from ``base``.

    ``interval_min``: the planning interval of the fitted arrival profile (and of the new
    scenario). ``min_sample``: fewer observations than this keep the base's value (noted)."""
    cfg = copy.deepcopy(base)
    est: list[Estimate] = []
    notes: list[str] = []
    cal = Calibration(cfg, est, list(KEPT), notes)
    n = L.n
    nd = L.n_days

    # --- arrivals ------------------------------------------------------------------------
    ilen = interval_min * 60.0
    nb = int(math.ceil(L.horizon_s / ilen - 1e-9))
    b = np.minimum((L.arrival // ilen).astype(np.int64), nb - 1)
    counts = np.zeros((nd, nb))
    np.add.at(counts, (L.day, b), 1)
    cal.counts = counts
    totals = counts.sum(axis=1)
    if nd >= 2:
        tot, lo, hi = mean_t(totals)
        how = f"mean of {nd} daily totals, t interval"
    else:
        tot = float(totals[0])
        lo, hi = tot - Z95 * math.sqrt(tot), tot + Z95 * math.sqrt(tot)
        how = "one day's count, Poisson interval"
    est.append(Estimate("arrivals.total", tot, lo, hi, nd, how, "inquiries/day"))
    cfg.interval_min = float(interval_min)
    cfg.arrivals.rate_per_min = None
    cfg.arrivals.total = float(round(tot, 1))
    cfg.arrivals.weights = [float(round(w, 3)) for w in counts.mean(axis=0)]
    peak = int(np.argmax(counts.mean(axis=0)))
    est.append(Estimate("arrivals.weights (peak interval)", counts.mean(axis=0)[peak] / (ilen / 60.0), math.nan, math.nan, nd,
                        f"mean count per {interval_min:g}-min interval; peak at {peak * interval_min / 60:.2f} h", "inquiries/min"))
    if nd >= 2:
        m, v = totals.mean(), totals.var(ddof=1)
        cv2 = max(0.0, (v - m) / m**2)
        v_lo = (nd - 1) * v / stats.chi2.ppf(0.975, nd - 1)
        v_hi = (nd - 1) * v / stats.chi2.ppf(0.025, nd - 1)
        cv_lo, cv_hi = (math.sqrt(max(0.0, (x - m) / m**2)) for x in (v_lo, v_hi))
        est.append(Estimate("arrivals.forecast_cv", math.sqrt(cv2), cv_lo, cv_hi, nd,
                            "gamma dispersion by moments: var(total) = mean + cv^2 mean^2; chi-square interval", ""))
        cfg.arrivals.forecast_cv = float(round(math.sqrt(cv2), 4))
    else:
        notes.append("arrivals.forecast_cv kept from the base: one day shows no day-to-day dispersion")

    # --- shares --------------------------------------------------------------------------
    for key, flag, what in (("customers.presale_share", L.presale, "presale"), ("customers.returning_share", L.returning, "returning")):
        p, lo, hi = wilson(int(flag.sum()), n)
        est.append(Estimate(key, p, lo, hi, n, f"share of {what} inquiries, Wilson interval", "share"))
        setattr(cfg.customers, key.split(".")[1], float(round(p, 4)))

    # --- reply (typing) times per pool ----------------------------------------------------
    busy, shared = _agent_overlaps(L)
    resp = L.replied
    frt = L.first_reply - L.arrival
    escalated = (L.pool == "bot") & np.isin(L.agent_pool, HUMANS)
    reply_mean: dict[str, float] = {}
    reply_se_log: dict[str, float] = {}
    for p in POOLS:
        if p == "bot":
            # The bot never queues a reply: one with a slot free at the arrival took the inquiry
            # then, so its first response is its typing time.
            # An escalated chat is logged under its human, so bot slots are counted over every
            # bot-first chat, pooled over the bot instances seen.
            bots = max(1, np.unique(L.agent_id[L.agent_pool == "bot"]).size)
            free = _open_at_arrival(L, L.pool == "bot") < base_concurrency(base, "bot") * bots
            sel = resp & (L.pool == "bot") & free
            how = "bot first replies with a bot slot free at arrival"
        else:
            sel = resp & (L.pool == p) & (L.agent_pool == p) & ~busy
            how = "first replies of agents holding no other chat at arrival"
        x = frt[sel]
        x = x[x > 0]
        if x.size < min_sample:
            if (L.pool == p).any():
                notes.append(f"staffing.{p}.reply_s kept from the base: {x.size} usable first replies (< {min_sample})")
            continue
        fit, fits = best_duration(x, None, ("exponential", "lognormal", "gamma"))
        cal.reply_samples[p], cal.reply_fits[p] = x, fits
        est.extend(_dist_estimates(f"staffing.{p}.reply_s (effective)", fit, fits, f"ML, {how}"))
        reply_mean[p] = fit.mean
        reply_se_log[p] = (math.log(fit.mean_ci[1]) - math.log(fit.mean)) / Z95
        pool_cfg = getattr(cfg.staffing, p)
        pool_cfg.reply_s = Dist(fit.family, 0.0, float(round(fit.cv, 4)) if fit.family != "exponential" else 1.0)
        cal_speed = pool_cfg.speed
        pool_cfg.reply_s.mean = float(round(fit.mean * cal_speed, 4))
    if "ft" in reply_mean:
        ft_speed = cfg.staffing.ft.speed
        base_mean = reply_mean["ft"] * ft_speed
        for p in ("temps", "bot"):
            if p not in reply_mean:
                continue
            ratio = reply_mean["ft"] / reply_mean[p]
            se = math.hypot(reply_se_log["ft"], reply_se_log[p])
            speed = ft_speed * ratio
            est.append(Estimate(f"staffing.{p}.speed", speed, speed * math.exp(-Z95 * se), speed * math.exp(Z95 * se),
                                int(cal.reply_fits[p][next(iter(cal.reply_fits[p]))].n), "full-time mean typing time / this pool's (delta method)", "x full-time"))
            pool_cfg = getattr(cfg.staffing, p)
            pool_cfg.speed = float(round(speed, 4))
            pool_cfg.reply_s.mean = float(round(base_mean, 4))

    def typing(pool: np.ndarray) -> np.ndarray:
        """Each row's pool's effective mean typing time (s), fitted or from the base."""
        out = np.zeros(pool.size)
        for p in POOLS:
            m = reply_mean.get(p)
            if m is None:
                pc = getattr(base.staffing, p)
                m = pc.reply_s.mean / pc.speed
            out[pool == p] = m
        return out

    # --- think time ------------------------------------------------------------------------
    complete = np.isfinite(L.end) & (L.customer_msgs == L.replies) & resp
    multi = complete & (L.replies >= 2)
    bot_chats = multi & (L.pool == "bot") & (L.agent_pool == "bot")
    # A human with one slot never interleaves chats; with more, only a chat the agent held
    # alone is free of queueing (that choice favours short chats: the bot's chats go first).
    alone = np.zeros(n, dtype=bool)
    for p in HUMANS:
        mine = multi & (L.pool == p) & (L.agent_pool == p)
        alone |= mine if base_concurrency(base, p) == 1 else mine & ~busy & ~shared
    solo = bot_chats if bot_chats.sum() >= min_sample else alone
    source = "bot chats" if solo is bot_chats else "human chats alone at their agent"
    gaps = L.replies[solo] - 1
    think_mean = cfg.conversation.think_s.mean
    if solo.sum() >= min_sample:
        per_gap = (L.end[solo] - L.first_reply[solo]) / gaps
        th = per_gap - typing(L.pool[solo])
        w = gaps.astype(float)
        think_mean = float((w * th).sum() / w.sum())
        se = math.sqrt(float((w**2 * (th - think_mean) ** 2).sum())) / w.sum()
        est.append(Estimate("conversation.think_s.mean", think_mean, think_mean - Z95 * se, think_mean + Z95 * se, int(solo.sum()),
                            f"per-turn (end - first reply)/(replies - 1) minus typing, {source}", "s"))
        cfg.conversation.think_s.mean = float(round(max(think_mean, 0.01), 3))
    else:
        notes.append(f"conversation.think_s kept from the base: {int(solo.sum())} multi-turn chats alone at their agent (< {min_sample})")

    # --- patience ----------------------------------------------------------------------------
    lost = L.lost_first
    waiting = ~lost & ~resp
    # Abandonment is judged when the first reply *starts*; the log has the instant it was sent.
    # Known start: an idle start (at once); a one-slot agent starts when its previous chat
    # ended; the bot at once (sent - its ~1 s typing). Otherwise the wait is spread over
    # the floor set by the agent's other sends, plus a wait deconvolved from typing (a mixture).
    idle = np.isin(L.pool, HUMANS) & (L.agent_pool == L.pool) & ~busy
    wait = np.full(n, np.nan)
    wait[idle] = 0.0
    bot_rows = L.pool == "bot"
    wait[bot_rows] = np.maximum(frt[bot_rows] - typing(L.pool[bot_rows]), 0.0)
    for p in HUMANS:
        if base_concurrency(base, p) == 1:
            rows = np.flatnonzero(resp & (L.pool == p) & (L.agent_pool == p) & np.isnan(wait))
            wait[rows] = np.maximum(_previous_end(L, rows) - L.arrival[rows], 0.0)
    known = resp & np.isfinite(wait)
    spread = resp & ~known
    t_parts = [np.where(lost, L.left - L.arrival, L.horizon_s - L.arrival)[lost | waiting], wait[known]]
    ev_parts = [lost[lost | waiting], np.zeros(int(known.sum()), bool)]
    w_parts = [np.ones(int((lost | waiting).sum())), np.ones(int(known.sum()))]
    for p in HUMANS:
        rows = spread & (L.pool == p)
        if rows.any():
            _add_censored(t_parts, ev_parts, w_parts,
                          *_wait_posterior(frt[rows], _typing_dist(cal, base, p), _wait_floor(L, np.flatnonzero(rows))))
    t, ev, wt = _censored_sample(t_parts, ev_parts, w_parts)
    cal.patience_data = (t, ev, wt)
    if ev.sum() >= max(min_sample, 2):
        cal.patience_km = kaplan_meier(t, ev, wt)
        fit, fits = best_duration(t, ev, ("exponential", "lognormal"), wt)
        cal.patience_fits = fits
        n_c = int(n - lost.sum())
        est.extend(_dist_estimates("customers.patience", fit, fits,
                                   f"censored ML: {int(lost.sum()):,} left (events), {n_c:,} answered or still waiting (censored)"))
        cfg.customers.patience = Dist(fit.family, float(round(fit.mean, 3)), float(round(fit.cv, 4)) if fit.family != "exponential" else 1.0)
        med = cal.patience_km.median_survival_time_
        est.append(Estimate("patience median (Kaplan-Meier)", float(med), math.nan, math.nan, n,
                            "Kaplan-Meier (lifelines); reported, not a scenario key", "s"))
    else:
        notes.append(f"customers.patience kept from the base: {int(ev.sum())} customers left unanswered (< {min_sample})")

    # --- hand-over patience -------------------------------------------------------------------
    _fit_handover_patience(L, base, cfg, cal, est, notes, min_sample)

    # --- turns ---------------------------------------------------------------------------------
    chats = resp & ~escalated
    dropped = chats & (L.customer_msgs > L.replies) & (L.replies >= 1)
    open_ = chats & ~np.isfinite(L.end)
    sel = (chats & complete) | dropped | open_
    k = np.maximum(L.customer_msgs[sel], 1)
    cens = (dropped | open_)[sel]
    if (~cens).sum() >= min_sample:
        tf = fit_turns(k, cens)
        est.append(Estimate("conversation.turns", tf.mean, tf.lo, tf.hi, tf.n,
                            f"{tf.dist}: customer messages of complete chats, drops censored" + (f"; AIC {', '.join(f'{d} {a:,.1f}' for d, a in tf.aic.items())}" if tf.aic else ""), "turns"))
        est.append(Estimate("conversation.turns_dist", math.nan, math.nan, math.nan, tf.n, "all complete chats equal -> constant, else lowest AIC", "", tf.dist))
        cfg.conversation.turns_dist = tf.dist
        cfg.conversation.turns = float(round(tf.mean)) if tf.dist == "constant" else float(round(tf.mean, 3))
    else:
        notes.append("conversation.turns kept from the base: too few complete chats")

    # --- bot resolve ----------------------------------------------------------------------------
    bot_first = resp & (L.pool == "bot")
    if bot_first.sum() >= min_sample:
        resolved = bot_first & (L.agent_pool == "bot") & (L.customer_msgs <= L.replies)
        p, lo, hi = wilson(int(resolved.sum()), int(bot_first.sum()))
        est.append(Estimate("routing.bot_resolve_prob", p, lo, hi, int(bot_first.sum()), "bot-first chats the bot closed itself, Wilson", "share"))
        cfg.routing.bot_resolve_prob = float(round(p, 4))

    # --- funnel: order probability and conversion factors ----------------------------------------
    _fit_orders(L, cfg, base, est, notes, complete, frt, think_mean, min_sample)
    orders = L.ordered
    if orders.sum() >= min_sample:
        paid = np.isfinite(L.paid)
        now = paid & (L.paid - L.order <= base.nudge.after_min * 60.0)
        p, lo, hi = wilson(int(now.sum()), int(orders.sum()))
        est.append(Estimate("funnel.pay_now_prob", p, lo, hi, int(orders.sum()), f"orders paid within nudge.after_min={base.nudge.after_min:g} min, Wilson", "share"))
        cfg.funnel.pay_now_prob = float(round(p, 4))
        later = orders & ~now
        for key, sel in (("nudge.nudged_pay_prob", later & L.nudged), ("nudge.unnudged_pay_prob", later & ~L.nudged)):
            if sel.sum() >= min_sample:
                p, lo, hi = wilson(int((sel & paid).sum()), int(sel.sum()))
                est.append(Estimate(key, p, lo, hi, int(sel.sum()), "unpaid-at-once orders paid later, Wilson", "share"))
                setattr(cfg.nudge, key.split(".")[1], float(round(p, 4)))
            else:
                notes.append(f"{key} kept from the base: {int(sel.sum())} orders (< {min_sample})")
        vals = L.order_value[orders & np.isfinite(L.order_value) & (L.order_value > 0)]
        if vals.size >= min_sample:
            fit, fits = best_duration(vals, None, ("exponential", "lognormal", "gamma"))
            for e in _dist_estimates("funnel.order_value", fit, fits, "ML over orders"):
                e.unit = "CNY" if e.unit == "s" else e.unit
                est.append(e)
            cfg.funnel.order_value = Dist(fit.family, float(round(fit.mean, 2)), float(round(fit.cv, 4)) if fit.family != "exponential" else 1.0)
    fu = L.followed_up
    if fu.sum() >= min_sample:
        p, lo, hi = wilson(int((fu & L.ordered).sum()), int(fu.sum()))
        est.append(Estimate("followup.conversion_prob", p, lo, hi, int(fu.sum()), "followed-up chats that then ordered, Wilson", "share"))
        cfg.followup.conversion_prob = float(round(p, 4))

    # --- reported only ------------------------------------------------------------------------------
    for p in POOLS:
        ids = np.unique(L.agent_id[L.agent_pool == p])
        if ids.size:
            est.append(Estimate(f"observed agents ({p})", float(ids.size), math.nan, math.nan, int((L.agent_pool == p).sum()),
                                "distinct agent_id; reported, staffing kept from the base", "agents"))
            est.append(Estimate(f"observed max open chats per agent ({p})", float(_max_open(L, p)), math.nan, math.nan, int(ids.size),
                                f"a lower bound of concurrency (base: {getattr(base.staffing, p).concurrency}); reported only", "chats"))
    validate(cfg)
    return cal


def _previous_end(L: LogData, rows: np.ndarray) -> np.ndarray:
    """For each row, the latest end of another chat of its agent that ended by its first reply
    (-inf if none): when a one-slot agent became free for it."""
    out = np.full(rows.size, -np.inf)
    have = np.isfinite(L.end) & (L.agent_id != "")
    ends = pd.DataFrame({"agent": L.agent_id[have], "day": L.day[have], "e": L.end[have], "row": np.flatnonzero(have)})
    groups = {k: (g["e"].to_numpy(), g["row"].to_numpy()) for k, g in ends.sort_values("e").groupby(["agent", "day"], sort=False)}
    for j, i in enumerate(rows):
        g = groups.get((L.agent_id[i], L.day[i]))
        if g is None:
            continue
        e, r = g
        k = int(np.searchsorted(e, L.first_reply[i], side="right"))
        while k > 0 and r[k - 1] == i:
            k -= 1
        if k > 0:
            out[j] = e[k - 1]
    return out


def _wait_floor(L: LogData, rows: np.ndarray) -> np.ndarray:
    """A lower bound of each row's wait for its first reply: an agent types one reply at a time,
    so another reply of the same agent sent after the arrival and before this first reply was
    typed before this one started. Logged sent instants: first replies and chat ends."""
    out = np.zeros(rows.size)
    has = (L.agent_id != "") & (L.agent_pool == L.pool)
    # A chat's end is a reply sent only if the chat ended on a reply (not a leaver or a drop),
    # or if it is the wasted reply to a silent leaver (ending after the customer left).
    sent_end = (L.replied & (L.customer_msgs == L.replies)) | (L.lost_first & (L.end > L.left))
    inst = np.concatenate([L.first_reply[has], np.where(sent_end, L.end, np.nan)[has]])
    agent = np.concatenate([L.agent_id[has], L.agent_id[has]])
    day = np.concatenate([L.day[has], L.day[has]])
    ok = np.isfinite(inst)
    df = pd.DataFrame({"agent": agent[ok], "day": day[ok], "t": inst[ok]}).sort_values("t")
    groups = {k: g["t"].to_numpy() for k, g in df.groupby(["agent", "day"], sort=False)}
    for j, i in enumerate(rows):
        t = groups.get((L.agent_id[i], L.day[i]))
        if t is None:
            continue
        k = int(np.searchsorted(t, L.first_reply[i], side="left"))  # instants strictly before the send
        if k > 0 and t[k - 1] > L.arrival[i]:
            out[j] = t[k - 1] - L.arrival[i]
    return out


def _wait_posterior(u: np.ndarray, typing, floor: np.ndarray | None = None, grid: int = 120) -> tuple[np.ndarray, np.ndarray]:
    """Split first-response times ``u`` = wait + typing into candidate waits with weights.

    The wait is at least ``floor`` (see :func:`_wait_floor`; 0 if None); the rest, ``W'``, is
    deconvolved from ``u - floor`` = W' + R with the pool's typing-time distribution ``typing``
    (a frozen scipy distribution) taken as known: the nonparametric maximum likelihood mixing
    distribution of W' on a grid (EM), then each row's posterior over the grid. Returns (waits,
    weights), ``len(u) x grid`` each."""
    floor = np.zeros(u.size) if floor is None else np.asarray(floor, dtype=float)
    v = np.maximum(u - floor, 0.0)
    top = max(float(np.quantile(v, 0.999)), 1.0)
    w = np.concatenate([[0.0], np.geomspace(0.25, top, grid - 1)])
    d = v[:, None] - w[None, :]
    lik = np.where(d >= 0, typing.pdf(np.maximum(d, 0.0)), 0.0)  # f_R(v - w)
    dead = lik.sum(axis=1) <= 0  # nothing explains v (below the typing support): no wait beyond the floor
    lik[dead, 0] = 1.0
    pi = np.full(grid, 1.0 / grid)
    for _ in range(500):
        post = lik * pi
        post /= np.maximum(post.sum(axis=1, keepdims=True), 1e-300)
        new = post.mean(axis=0)
        done = np.abs(new - pi).max() < 1e-8
        pi = new
        if done:
            break
    post = lik * pi
    post /= np.maximum(post.sum(axis=1, keepdims=True), 1e-300)
    return floor[:, None] + w[None, :], post


def _add_censored(t_parts: list, ev_parts: list, w_parts: list, waits: np.ndarray, weights: np.ndarray) -> None:
    """Append answered customers' candidate waits (censored) with their posterior weights."""
    t_parts.append(waits.ravel())
    ev_parts.append(np.zeros(waits.size, bool))
    w_parts.append(weights.ravel())


def _censored_sample(t_parts: list, ev_parts: list, w_parts: list) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The weighted censored sample (durations s, events, weights) for the survival fits."""
    t = np.maximum(np.concatenate(t_parts), 1e-3)
    ev = np.concatenate(ev_parts)
    wt = np.concatenate(w_parts)
    keep = wt > 1e-4  # posterior crumbs carry nothing (and upset lifelines' variance)
    return t[keep], ev[keep], wt[keep]


def _fit_handover_patience(L: LogData, base: Config, cfg: Config, cal: Calibration, est: list, notes: list, min_sample: int) -> None:
    """``customers.handover_patience`` from the hand-over rows, censored like the first-reply
    patience: a customer who left after the hand-over is an event at ``left - handover``; one a
    human answered is censored at the wait before that reply *started* (the sent instant minus
    the human's typing, deconvolved as for first replies); one still waiting at the horizon is
    censored at ``horizon - handover``."""
    handed = np.isfinite(L.handover)
    if not handed.any():
        notes.append("customers.handover_patience kept from the base: the log has no hand-overs (handover_ts)")
        return
    left = handed & L.lost_handover
    served = handed & ~left & np.isfinite(L.human_reply)
    waiting = handed & ~left & ~served
    t_parts = [(L.left - L.handover)[left], (L.horizon_s - L.handover)[waiting]]
    ev_parts = [np.ones(int(left.sum()), bool), np.zeros(int(waiting.sum()), bool)]
    w_parts = [np.ones(int(left.sum())), np.ones(int(waiting.sum()))]
    u = L.human_reply - L.handover
    for p in HUMANS:
        rows = served & (L.agent_pool == p)
        if rows.any():
            _add_censored(t_parts, ev_parts, w_parts, *_wait_posterior(u[rows], _typing_dist(cal, base, p)))
    t, ev, wt = _censored_sample(t_parts, ev_parts, w_parts)
    if ev.sum() < max(min_sample, 2):
        notes.append(f"customers.handover_patience kept from the base: {int(left.sum())} customers left after a hand-over (< {min_sample})")
        return
    fit, fits = best_duration(t, ev, ("exponential", "lognormal"), wt)
    est.extend(_dist_estimates("customers.handover_patience", fit, fits,
                               f"censored ML: {int(left.sum()):,} left after a hand-over (events), "
                               f"{int((served | waiting).sum()):,} reached by a human or still waiting (censored)"))
    cfg.customers.handover_patience = Dist(fit.family, float(round(fit.mean, 3)), float(round(fit.cv, 4)) if fit.family != "exponential" else 1.0)


def _typing_dist(cal: Calibration, base: Config, pool: str):
    """A pool's effective typing-time distribution (fitted, else the base's), frozen scipy."""
    from cssim.calibrate.estimators import frozen

    fits = cal.reply_fits.get(pool)
    if fits:
        return min(fits.values(), key=lambda f: f.aic).frozen()
    pc = getattr(base.staffing, pool)
    d = pc.reply_s
    if d.dist in ("exponential", "lognormal", "gamma"):
        return frozen(d.dist, d.mean / pc.speed, d.cv)
    m = (d.mean if d.dist == "constant" else float(np.mean(d.values))) / pc.speed
    return stats.uniform(0.9 * m, 0.2 * m)  # a narrow band around a constant typing time


def base_concurrency(cfg: Config, pool: str) -> int:
    return int(getattr(cfg.staffing, pool).concurrency)


def _max_open(L: LogData, pool: str) -> int:
    """The most chats one agent of ``pool`` certainly held at once: from first reply to end."""
    m = (L.agent_pool == pool) & (L.pool == pool) & np.isfinite(L.end) & np.isfinite(L.first_reply)
    if pool == "bot":  # a hand-over left waiting for a human is no longer the bot's
        m &= L.customer_msgs <= L.replies
    if not m.any():
        return 0
    df = pd.DataFrame({"agent": L.agent_id[m], "day": L.day[m], "a": L.first_reply[m], "e": L.end[m]})
    best = 0
    for _, g in df.groupby(["agent", "day"]):
        t = np.concatenate([g["a"].to_numpy(), g["e"].to_numpy()])
        s = np.concatenate([np.ones(len(g)), -np.ones(len(g))])
        order = np.lexsort((s, t))  # ends before starts at the same instant
        best = max(best, int(np.cumsum(s[order]).max()))
    return best


def _delay(base: Config, r: np.ndarray) -> np.ndarray:
    d = base.funnel.delay_effect
    excess = np.maximum(r - d.ref_s, 0.0)
    if d.kind == "none":
        return np.ones_like(r)
    if d.kind == "exponential":
        return np.exp(-excess / d.scale_s)
    return np.maximum(0.0, 1.0 - excess / d.scale_s)


def _fit_orders(L, cfg, base, est, notes, complete, frt, think_mean, min_sample) -> None:
    """Order probability and per-pool conversion factors by maximum likelihood over complete
    presale chats (success: an order at the chat's end), through the base's delay effect."""
    sel = complete & L.presale
    if sel.sum() < min_sample:
        notes.append("funnel.order_prob kept from the base: too few complete presale chats")
        return
    closing = np.where(L.agent_pool != "", L.agent_pool, L.pool)[sel]
    y = (L.ordered & ~L.followed_up)[sel].astype(float)  # ordered at the chat's end (a follow-up comes only without one)
    n_msgs = L.replies[sel].astype(float)
    later = np.maximum((L.end - L.first_reply)[sel] - (n_msgs - 1) * think_mean, 0.0)
    r = (frt[sel] + later) / n_msgs
    f = _delay(base, r)
    pools = [p for p in ("temps", "bot") if (closing == p).sum() >= min_sample]
    for p in ("temps", "bot"):
        if (closing == p).any() and p not in pools:
            notes.append(f"staffing.{p}.conversion kept from the base: {(closing == p).sum()} chats (< {min_sample})")
    keep = np.isin(closing, ["ft", *pools])
    y, f, closing = y[keep], f[keep], closing[keep]
    c_ft = base.staffing.ft.conversion

    def probs(x):
        q = 1 / (1 + math.exp(-x[0]))
        c = np.full(y.size, c_ft)
        for j, p in enumerate(pools):
            c[closing == p] = math.exp(x[1 + j])
        return np.clip(q * c * f, 1e-9, 1 - 1e-9), q

    def nll(x):
        pr, _ = probs(x)
        return -float((y * np.log(pr) + (1 - y) * np.log1p(-pr)).sum())

    p0 = min(max(y.mean() / max(f.mean() * c_ft, 1e-6), 0.01), 0.99)
    x0 = np.array([math.log(p0 / (1 - p0))] + [0.0] * len(pools))
    res = optimize.minimize(nll, x0, method="Nelder-Mead", options={"xatol": 1e-8, "fatol": 1e-10, "maxiter": 4000})
    from cssim.calibrate.estimators import _hessian

    H = _hessian(nll, res.x)
    try:
        se = np.sqrt(np.clip(np.diag(np.linalg.inv(H)), 0, None))
    except np.linalg.LinAlgError:
        se = np.full(res.x.size, np.nan)
    lo_x, hi_x = res.x - Z95 * se, res.x + Z95 * se
    q = 1 / (1 + math.exp(-res.x[0]))
    n_ft = int((closing == "ft").sum())
    est.append(Estimate("funnel.order_prob", q, 1 / (1 + math.exp(-lo_x[0])), 1 / (1 + math.exp(-hi_x[0])), int(y.size),
                        f"ML over complete presale chats, with ft conversion {c_ft:g} and the base delay effect", "share"))
    cfg.funnel.order_prob = float(round(q, 4))
    for j, p in enumerate(pools):
        c = math.exp(res.x[1 + j])
        est.append(Estimate(f"staffing.{p}.conversion", c, math.exp(lo_x[1 + j]), math.exp(hi_x[1 + j]), int((closing == p).sum()),
                            f"ML, relative to full-time ({n_ft} ft chats)", "x order_prob"))
        getattr(cfg.staffing, p).conversion = float(round(c, 4))
