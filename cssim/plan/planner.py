"""``cssim.plan``: the four steps wired together, and what they return.

    requirements (Erlang-A start) -> correct (simulation, common random numbers)
        -> cover (cheapest shifts, MILP) -> verify (fresh seeds) -> [raise, cover, verify ...]

The scenario's own roster is simulated on the final verification's seeds too, so the plan and
the scenario are compared pairwise (same customers) in :attr:`Plan.summary`.
"""

from __future__ import annotations

import copy
import math
import sys
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd

from cssim.arrivals import interval_edges_s
from cssim.config import Config, validate_plan
from cssim.metrics import UNITS
from cssim.plan.correct import DECISION_LEVEL, Correction, _fmt_interval, caps, correct, correction_replications, targets
from cssim.plan.cover import Roster, plan_roster
from cssim.plan.replicate import Batch, Runner
from cssim.plan.requirements import queue_model, starting_requirement, working_heads
from cssim.plan.verify import ALPHA, check, raised_need, verification_seed, verify
from cssim.stats import mean_ci

#: Metrics compared between the plan and the scenario's own roster in the summary.
SUMMARY_METRICS = (
    "cost_total", "cost_labor", "cost_overtime", "profit", "gmv", "inquiries", "lost_inquiries", "lost_before_reply",
    "lost_after_handover", "lost_rate", "response_rate", "rr_3min",
    "dropped_mid_chat", "escalated", "inquiry_conversion", "paid_orders", "bot_share", "utilization_ft",
    "utilization_temps", "receptions_per_8h_ft", "receptions_per_8h_temps",
)


@dataclass
class Plan:
    """The result of :func:`plan`.

    config: the planned scenario (planned pools on the chosen shifts; seed and replications
    of the final verification, so simulating it reproduces that verification).
    requirements: one row per interval: expected arrivals, Erlang-A start, corrected and final
    requirement (reference working heads), planned working and paid heads per pool, the
    scenario's own working heads per planned pool. roster: one row per shift template with
    heads: pool, start_h, end_h, length_h, heads, working, cost_cny. verification: one row per
    interval: lost rate and 3-minute rate with 95% CI half-widths for the plan and for the
    scenario's own roster (same seeds), the targets, whether each is met. summary: totals
    (cost, profit, lost rate, conversion, ...) with 95% CIs for the plan and the own roster
    and their paired difference, attainment counts, unreachable intervals, runs and timings.
    correction_log: one row per correction iteration and interval.
    """

    scenario: str
    config: Config
    requirements: pd.DataFrame
    roster: pd.DataFrame
    verification: pd.DataFrame
    summary: dict
    correction_log: pd.DataFrame = field(repr=False)
    messages: list[str] = field(default_factory=list)

    @property
    def met(self) -> bool:
        """Every interval with a target meets it (point estimate) in the final verification."""
        return bool(self.summary["intervals"]["met_plan"] == self.summary["intervals"]["with_target"])


def _metric_summary(batch: Batch) -> dict:
    out = {}
    for m in SUMMARY_METRICS:
        if m not in batch.metrics[0]:
            continue  # a metric this engine does not report
        mean, hw, n = mean_ci(r[m] for r in batch.metrics)
        out[m] = {"mean": mean, "ci95": hw, "n": n, "unit": UNITS.get(m, "")}
    return out


def _paired(a: Batch, b: Batch) -> dict:
    out = {}
    for m in SUMMARY_METRICS:
        if m not in a.metrics[0]:
            continue
        mean, hw, n = mean_ci(x[m] - y[m] for x, y in zip(a.metrics, b.metrics))
        out[m] = {"mean": mean, "ci95": hw, "n": n, "unit": UNITS.get(m, "")}
    return out


def plan(cfg: Config, *, workers: int | None = None, quiet: bool = False, say: Callable[[str], None] | None = None) -> Plan:
    """The cheapest roster of ``cfg.plan.pools`` on shift templates that meets the service
    target in every planning interval, verified by simulation (or, with
    ``plan.objective=profit``, the profit-seeking roster). Settings: ``cfg.plan``
    (:class:`cssim.config.Plan`). ``workers`` overrides ``plan.workers`` (processes);
    progress goes to stderr unless ``quiet`` (or to ``say``).

    >>> import cssim
    >>> cfg = cssim.load_scenario("small_shop_618", ["plan.pools=[ft]", "plan.replications=4"])
    >>> p = cssim.plan(cfg, quiet=True)                       # doctest: +SKIP
    >>> p.roster, p.summary["plan"]["cost_total"]             # doctest: +SKIP
    """
    t_start = time.perf_counter()
    validate_plan(cfg)
    pl = cfg.plan
    emit = say or ((lambda msg: None) if quiet else (lambda msg: print(msg, file=sys.stderr, flush=True)))
    if pl.forecast_cv > 0:
        from cssim.plan.forecast import robust_plan

        out = robust_plan(cfg, plan, Runner.for_config(cfg, workers, quiet=quiet, say=emit), emit, workers=workers, quiet=quiet, say=emit)
        out.summary["wall_s"] = time.perf_counter() - t_start
        return out
    runner = Runner.for_config(cfg, workers, quiet=quiet, say=emit)
    R = pl.replications
    timings: dict[str, float] = {}
    runs: dict[str, int] = {}
    messages: list[str] = []
    target_text = f"lost <= {100 * pl.max_lost_rate:g}%" + (f", rr_3min >= {100 * pl.min_rr_3min:g}%" if pl.min_rr_3min is not None else "")
    emit(
        f"plan: {cfg.name}: {'cheapest' if pl.objective == 'cost' else 'profit-seeking'} roster of {', '.join(pl.pools)} "
        f"on {', '.join(f'{x:g} h' for x in pl.shift_lengths_h)} shifts every {pl.start_step_h:g} h; "
        f"target per interval: {target_text}; {correction_replications(cfg)} replications per correction run (common random numbers) and "
        f"{R} per verification round (fresh seeds), each doubled while undecided up to {pl.max_replications}; on {runner.describe()}"
    )

    # 1. Erlang-A starting requirement.
    t = time.perf_counter()
    model = queue_model(cfg)
    tgt = targets(cfg, model)
    # The exact Erlang-A minimum, searched up to ten times the offered load. A target no
    # staffing reaches in the model (a ceiling of 0 with finite patience) starts at the search
    # cap's third and is named unreachable unless the simulation meets it beyond noise.
    offered = np.array([math.ceil(model.offered_heads(i)) for i in range(model.n_intervals)])
    search = np.full(model.n_intervals, pl.max_heads) if pl.max_heads is not None else np.maximum(20, 10 * offered)
    found = [model.min_heads(i, pl.max_lost_rate, cap=int(search[i])) for i in range(model.n_intervals)]
    analytic_ok = np.array([ok for _, ok in found]) | ~tgt
    start = np.array([n for n, _ in found], dtype=np.int64)
    start = np.where(analytic_ok, start, np.minimum(search, np.maximum(10, 3 * offered)))
    start = np.where(tgt, start, 0)
    cap = caps(cfg, model, start)
    timings["requirements"] = time.perf_counter() - t
    emit(f"plan: step 1 (Erlang-A start): {start.sum():,} head-intervals, peak {start.max():,} working {pl.pools[0]} ({timings['requirements']:.1f} s)")

    # 2. Simulation-based correction with common random numbers.
    t, r0 = time.perf_counter(), runner.runs
    corr: Correction = correct(cfg, model, start, runner, emit)
    timings["correction"] = time.perf_counter() - t
    runs["correction"] = runner.runs - r0
    emit(
        f"plan: step 2 (correction): {corr.iterations} iteration(s), {'converged' if corr.converged else 'NOT converged'}; "
        f"{corr.required.sum():,} head-intervals, peak {corr.required.max():,} ({timings['correction']:.0f} s)"
    )
    if pl.objective == "profit" and corr.flat is not None and (corr.flat & tgt).any():
        k = int((corr.flat & tgt).sum())
        messages.append(
            f"profit surface flat within noise in {k} of {int(tgt.sum())} intervals: 10% more heads neither paid nor lost beyond their 99% CI "
            f"at {corr.replications} replications (plan.max_replications={pl.max_replications}); the cheaper heads were kept there before the day check"
        )
    if pl.objective == "profit" and corr.day_log is not None and len(corr.day_log):
        vs_best = corr.day_log[corr.day_log["comparison"].str.contains("vs the best")]
        kept = int(corr.required[tgt].sum())
        messages.append(
            f"profit day check: {len(corr.day_log)} whole-day comparison(s) on the same customers (99% CI); {kept:,} head-intervals kept"
            + (
                f", the cheapest tested whose day profit is not below the best roster of the line ({int(vs_best['more_heads'].iloc[0]):,} head-intervals) beyond noise"
                if len(vs_best) else ""
            )
        )
    if not corr.converged:
        messages.append(f"correction did not settle within plan.max_iterations={pl.max_iterations}; requirement is the last estimate")

    # 3-4. Cover and verify until every interval holds (or the rounds run out).
    need = corr.required.copy()
    timings["cover"] = timings["verification"] = 0.0
    runs["verification"] = 0
    roster: Roster | None = None
    table = None
    vb = None
    seed = verification_seed(cfg, 1)
    verified = False
    stepped = np.zeros(model.n_intervals, dtype=bool)  # intervals given their one step for a miss within noise
    streak = np.zeros(model.n_intervals, dtype=np.int64)  # rounds running an interval's miss was confirmed
    rounds = 0
    for k in range(1, pl.max_iterations + 1):
        rounds = k
        t = time.perf_counter()
        roster = plan_roster(cfg, need, model.worth)
        timings["cover"] += time.perf_counter() - t
        emit(
            f"plan: step 3 (cover) round {k}: {int(roster.table['heads'].sum()):,} paid heads on {len(roster.table)} shifts, "
            f"{roster.cost_cny:,.0f} CNY"
        )
        t, r0 = time.perf_counter(), runner.runs
        seed = verification_seed(cfg, k)
        vb, table = verify(cfg, runner, f"verify round {k}", roster.config, seed, tgt, roster.covered)
        timings["verification"] += time.perf_counter() - t
        runs["verification"] += runner.runs - r0
        miss = np.flatnonzero(table["miss_confirmed"].to_numpy())
        open_ = np.flatnonzero(table["miss_unresolved"].to_numpy())
        emit(
            f"plan: step 4 (verify) round {k}, seed {seed}, {vb.replications} replications: {int(table['meets'][tgt].sum())} of {int(tgt.sum())} intervals meet the target; "
            f"{miss.size} miss (confirmed, one-sided {100 * ALPHA:g}% test), {open_.size} miss within noise"
            + ("".join(f"; {_fmt_interval(cfg, i)} lost {100 * table['lost_rate'][i]:.2f}% +- {100 * table['lost_rate_ci95'][i]:.2f}" for i in [*miss, *open_][:5]))
        )
        fresh_noise = open_[~stepped[open_]]
        if pl.objective == "profit" or miss.size == 0:
            # Profit has no per-interval target to hold: its verification only measures. For a
            # cost plan the rounds end once one confirms no miss; it holds only if no point
            # estimate misses either: a miss within noise is not a pass (named below).
            verified = pl.objective == "profit" or open_.size == 0
            break
        streak = np.where(table["miss_confirmed"].to_numpy(), streak + 1, 0)
        new = raised_need(cfg, model, need, roster.covered, table, cap, stepped, streak)
        stepped[fresh_noise] = True
        if np.array_equal(new, need) or k == pl.max_iterations:
            break
        emit(
            f"plan:   raising {miss.size} confirmed miss(es) to their fitted heads and giving {fresh_noise.size} miss(es) within noise "
            f"their one step ({int(stepped.sum())} so far); covering again"
        )
        need = new
    assert roster is not None and table is not None and vb is not None

    # The scenario's own roster on the final verification's seeds: a paired comparison.
    t = time.perf_counter()
    ob = runner.batch(f"own roster (seed {seed})", cfg, seed, vb.replications)
    own_table = check(cfg, ob, tgt)
    timings["own_roster"] = time.perf_counter() - t
    runs["own_roster"] = vb.replications

    if pl.objective == "profit":
        d_mean, d_hw, _ = mean_ci((x["profit"] - y["profit"] for x, y in zip(vb.metrics, ob.metrics)), DECISION_LEVEL)
        if d_mean + np.nan_to_num(d_hw, nan=0.0) < 0:
            messages.append(
                f"the scenario's own roster earns more than the plan on the verification days beyond the 99% CI: "
                f"plan minus own {d_mean:+,.0f} +- {d_hw:,.0f} CNY ({vb.replications} paired replications)"
            )
    # Unreachable targets: the cap missed, in the correction or in verification.
    # Unreachable: the cap missed beyond noise (correction or verification), or no staffing
    # reaches the target in the model and the simulation never met it beyond noise.
    _, ver_hw = vb.lost_rate(DECISION_LEVEL)
    shown = (table["lost_rate"].to_numpy() + np.nan_to_num(ver_hw, nan=np.inf)) < pl.max_lost_rate
    unreachable = (~corr.reachable) | (table["miss_confirmed"].to_numpy() & (need >= cap)) | (~analytic_ok & ~shown)
    best = np.fmin(corr.best_lost_rate, table["lost_rate"].to_numpy())
    unreach_rows = []
    for i in np.flatnonzero(unreachable & tgt):
        model_best = model.lost_rate(i, int(cap[i]))
        in_model = bool(analytic_ok[i])
        unreach_rows.append(
            {
                "interval": int(i), "start_h": float(table["start_h"][i]), "end_h": float(table["end_h"][i]),
                "best_lost_rate": float(best[i]), "heads_cap": int(cap[i]), "model_lost_rate_at_cap": float(model_best),
                "reason": "the cap misses in simulation" if in_model else "no finite staffing reaches it in the Erlang-A model",
            }
        )
    if unreach_rows:
        msg = f"target lost <= {100 * pl.max_lost_rate:g}% unreachable in {len(unreach_rows)} interval(s): " + "; ".join(
            f"{_fmt_interval(cfg, r['interval'])} best attainable {100 * r['best_lost_rate']:.2f}% simulated"
            + (f" with up to {r['heads_cap']:,} working heads" if r["reason"].startswith("the cap") else
               f" (Erlang-A {100 * r['model_lost_rate_at_cap']:.2g}% at {r['heads_cap']:,} heads, above 0 for any staffing: a sample cannot show a rate of 0)")
            for r in unreach_rows[:8]
        ) + (f"; and {len(unreach_rows) - 8} more" if len(unreach_rows) > 8 else "")
        messages.append(msg)
        emit("plan: " + msg)
    if not verified and pl.objective == "cost" and table["miss_confirmed"].any():
        messages.append(
            f"verification: after {rounds} round(s), {int(table['miss_confirmed'].sum())} interval(s) still miss (confirmed) and "
            f"{int(table['miss_unresolved'].sum())} miss within the resolution of {vb.replications} replications"
        )
    elif pl.objective == "cost" and table["miss_unresolved"].any():
        rows_ = np.flatnonzero(table["miss_unresolved"].to_numpy())
        messages.append(
            f"verification: no miss confirmed (one-sided {100 * ALPHA:g}% test), but not a pass: {rows_.size} interval(s) miss by point estimate within the resolution "
            f"of {vb.replications} replications ({int(stepped[rows_].sum())} of them given their one step in an earlier round): "
            + "; ".join(f"{_fmt_interval(cfg, i)} {100 * table['lost_rate'][i]:.2f}% +- {100 * table['lost_rate_ci95'][i]:.2f}" for i in rows_[:8])
            + (f"; and {rows_.size - 8} more" if rows_.size > 8 else "")
            + " (more plan.max_replications resolves them)"
        )

    planned = copy.deepcopy(roster.config)
    planned.name = f"{cfg.name}_plan"
    planned.description = f"{cfg.name} with {', '.join(pl.pools)} shifts planned by cssim plan ({target_text} per interval)"
    planned.seed = verification_seed(cfg, rounds)
    planned.replications = vb.replications

    edges_h = interval_edges_s(cfg) / 3600.0
    req = pd.DataFrame(
        {
            "interval": np.arange(model.n_intervals),
            "start_h": edges_h[:-1],
            "end_h": edges_h[1:],
            "expected_arrivals": model.rates * model.lengths_s,
            "has_target": tgt,
            "erlang_a_start": start,
            "corrected": corr.required,
            "required": need,
            "reachable": ~unreachable,
            "planned_covered": roster.covered,
        }
    )
    for p in pl.pools:
        req[f"planned_working_{p}"] = roster.working[p].to_numpy()
        req[f"planned_paid_{p}"] = roster.paid[p].to_numpy()
        req[f"own_working_{p}"] = working_heads(cfg, p)

    ver = table.copy()
    ver["own_lost_rate"] = own_table["lost_rate"]
    ver["own_lost_rate_ci95"] = own_table["lost_rate_ci95"]
    ver["own_rr_3min"] = own_table["rr_3min"]
    ver["own_meets"] = own_table["meets"]
    ver["own_rr_3min_ci95"] = own_table["rr_3min_ci95"]
    for p in ("ft", "temps", "bot"):
        ver[f"heads_{p}"] = vb.heads[p].mean(axis=0)

    worst = int(np.nanargmax(np.where(tgt, table["lost_rate"], -1.0)))
    summary = {
        "scenario": cfg.name,
        "objective": pl.objective,
        "pools": list(pl.pools),
        "target": {"max_lost_rate": pl.max_lost_rate, "min_rr_3min": pl.min_rr_3min, "excluded_intervals": list(pl.exclude_intervals)},
        "verified": verified,
        "replications": vb.replications,
        "seeds": {"correction": int(cfg.seed), "verification": int(planned.seed)},
        "roster_cost_cny": roster.cost_cny,
        "roster_paid_head_hours": float((roster.table["heads"] * roster.table["length_h"]).sum()),
        "plan": _metric_summary(vb),
        "own_roster": _metric_summary(ob),
        "difference_plan_minus_own": _paired(vb, ob),
        "intervals": {
            "with_target": int(tgt.sum()),
            "met_plan": int(table["meets"][tgt].sum()),
            "met_own": int(own_table["meets"][tgt].sum()),
            "miss_confirmed_plan": int(table["miss_confirmed"].sum()),
            "miss_unresolved_plan": int(table["miss_unresolved"].sum()),
            "stepped_for_noise": [int(i) for i in np.flatnonzero(stepped)],
            "miss_confirmed_own": int(own_table["miss_confirmed"].sum()),
            "worst_plan": {"interval": worst, "lost_rate": float(table["lost_rate"][worst]), "ci95": float(table["lost_rate_ci95"][worst])},
        },
        "unreachable": unreach_rows,
        "correction": {
            "flat_intervals": [int(i) for i in np.flatnonzero(corr.flat & tgt)] if corr.flat is not None else [],
            "iterations": corr.iterations, "converged": corr.converged, "replications": corr.replications,
            "decision_level": DECISION_LEVEL,
            "day_check": corr.day_log.to_dict("records") if corr.day_log is not None else [],
            "resolution_max": float(np.nanmax(np.where(tgt, corr.resolution, np.nan))) if corr.resolution is not None and tgt.any() else None,
        },
        "verification_test": {"one_sided_level": ALPHA, "replications": vb.replications, "max_replications": pl.max_replications},
        "verification_rounds": rounds,
        "runs": {**runs, "total": runner.runs},
        "simulated_s": runner.sim_s,
        "timings_s": timings,
        "wall_s": time.perf_counter() - t_start,
        "messages": messages,
    }
    for m in messages:
        if not m.startswith(("target lost", "profit surface flat", "profit day check")):
            emit("plan: warning: " + m)
    return Plan(cfg.name, planned, req, roster.table.copy(), ver, summary, corr.log, messages)

