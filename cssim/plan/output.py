"""A plan's folder: ``plans/<scenario>/<time>/`` with tables, the runnable scenario and charts.

    plan.yaml           the scenario with the planned shifts: cssim scenario=<this file>
    requirements.csv    per interval: Erlang-A start, corrected and final requirement,
                        planned working/paid heads per pool, the scenario's own heads
    roster.csv          per shift template used: pool, start, end, length, heads, working, cost
    verification.csv    per interval: lost rate and 3-minute rate +- 95% CI vs the target,
                        for the plan and for the scenario's own roster (same seeds)
    correction_log.csv  per correction iteration and interval: heads, lost rate, brackets
    summary.json        totals with 95% CIs, plan and own roster side by side
    charts/required_vs_planned.png, charts/loss_vs_target.png

Every file is written atomically (:mod:`cssim.io`); the folder is made only when the plan is
done, by :func:`cssim.io.unique_run_dir` (time to the millisecond plus a random suffix, exclusive
``mkdir``), so two plans started in the same second never share one.
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

import numpy as np
from omegaconf import OmegaConf

from cssim.io import unique_run_dir, write_atomic, write_csv, write_json, write_png
from cssim.plan.planner import Plan


def scenario_yaml(plan: Plan) -> str:
    """The planned scenario as YAML, loadable with ``cssim.load_scenario(path)``."""
    head = (
        f"# {plan.config.description}\n"
        f"# Written by cssim plan. Simulating it with its seed ({plan.config.seed}) and replications "
        f"({plan.config.replications}) reproduces the plan's final verification.\n"
    )
    return head + OmegaConf.to_yaml(OmegaConf.structured(plan.config))


def write_plan(plan: Plan, root: Path | str = "plans", now: _dt.datetime | None = None) -> Path:
    """Write every file of ``plan`` into a new folder ``root/<scenario>/<time>/``; returns it."""
    folder = unique_run_dir(Path(root) / plan.scenario, now)
    write_atomic(folder / "plan.yaml", lambda p: p.write_text(scenario_yaml(plan)))
    write_csv(folder / "requirements.csv", plan.requirements)
    write_csv(folder / "roster.csv", plan.roster)
    write_csv(folder / "verification.csv", plan.verification)
    write_csv(folder / "correction_log.csv", plan.correction_log)
    write_json(folder / "summary.json", plan.summary)
    charts(plan, folder / "charts")
    return folder


def charts(plan: Plan, out: Path) -> list[Path]:
    """Required vs planned heads by interval; lost rate by interval vs the target."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    req, ver = plan.requirements, plan.verification
    pools = plan.summary["pools"]
    x = req["start_h"].to_numpy()
    paths = []

    fig, ax = plt.subplots(figsize=(11, 4.5))
    ax.step(x, req["erlang_a_start"], where="post", color="tab:gray", ls=":", label="Erlang-A start")
    ax.step(x, req["required"], where="post", color="black", lw=1.5, label="required (simulation-corrected)")
    for p, color in zip(pools, ("tab:blue", "tab:green")):
        ax.step(x, req[f"planned_working_{p}"], where="post", color=color, label=f"planned {p}, working")
        ax.step(x, req[f"planned_paid_{p}"], where="post", color=color, ls="--", alpha=0.7, label=f"planned {p}, paid")
        ax.step(x, req[f"own_working_{p}"], where="post", color="tab:red", alpha=0.6, label=f"scenario's own {p}, working")
    paths.append(_finish(fig, ax, f"heads ({pools[0]}-equivalent)" if len(pools) > 1 else "heads",
                         f"{plan.scenario}: heads required vs planned by interval", out / "required_vs_planned.png"))

    fig, ax = plt.subplots(figsize=(11, 4.5))
    width = float((ver["end_h"] - ver["start_h"]).iloc[0])
    mid = ver["start_h"].to_numpy() + width / 2
    target = plan.summary["target"]["max_lost_rate"]
    series = (
        ("", "plan (mean, 95% CI)", "o", "tab:blue", 0.0),
        ("own_", "scenario's own roster (same seeds)", "s", "tab:red", width / 4),
    )
    plan_top = np.nanmax((ver["lost_rate"] + ver["lost_rate_ci95"].fillna(0)).to_numpy(), initial=0.0)
    top = 100 * max(3 * target, 1.15 * plan_top)
    for prefix, label, marker, color, dx in series:
        y = 100 * ver[f"{prefix}lost_rate"].to_numpy()
        hw = 100 * ver[f"{prefix}lost_rate_ci95"].fillna(0).to_numpy()
        ax.errorbar(mid + dx, y, yerr=[np.minimum(hw, y), hw], fmt=marker, ms=3, color=color, alpha=0.8 if prefix else 1.0, label=label)
        off = y > top
        if off.any():  # beyond the axis: a triangle on the edge, the value written above it
            ax.plot(mid[off] + dx, np.full(off.sum(), 0.97 * top), "^", color=color, ms=6)
            for xx, yy in zip(mid[off] + dx, y[off]):
                ax.annotate(f"{yy:.0f}%", (xx, 0.97 * top), textcoords="offset points", xytext=(0, -11), ha="center", fontsize=6, color=color)
    ax.set_ylim(0, top)
    ax.axhline(100 * target, color="black", ls="--", label=f"target {100 * target:g}%")
    excluded = ~ver["target_lost_rate"].notna().to_numpy()
    for i in np.flatnonzero(excluded):
        ax.axvspan(ver["start_h"].iloc[i], ver["end_h"].iloc[i], color="0.9")
    title = f"{plan.scenario}: lost rate by interval vs target (verification seed {plan.summary['seeds']['verification']})"
    paths.append(_finish(fig, ax, "lost inquiries (% of arrivals)", title, out / "loss_vs_target.png"))
    return paths


def _finish(fig, ax, ylabel: str, title: str, path: Path) -> Path:
    """Label a plan chart against the hour of the horizon, write it to ``path`` and close it."""
    import matplotlib.pyplot as plt
    ax.set_xlabel("hour of horizon")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    write_png(path, fig)
    plt.close(fig)
    return path


#: The plan-vs-own-roster table, in the terminal and on the report page: (summary key, label,
#: scale, unit, format).
COMPARISON = (
    ("cost_total", "Cost (all pools)", 1, "CNY", "{:,.0f}"),
    ("profit", "Profit", 1, "CNY", "{:,.0f}"),
    ("lost_rate", "Lost rate", 100, "%", "{:.2f}"),
    ("lost_inquiries", "Lost inquiries", 1, "inquiries", "{:,.0f}"),
    ("lost_before_reply", "  before a first reply", 1, "inquiries", "{:,.0f}"),
    ("lost_after_handover", "  after a bot hand-over", 1, "inquiries", "{:,.0f}"),
    ("dropped_mid_chat", "Mid-chat drops", 1, "chats", "{:,.0f}"),
    ("rr_3min", "Answered within 3 min", 100, "%", "{:.2f}"),
    ("inquiry_conversion", "Inquiry conversion", 100, "%", "{:.2f}"),
)
COMPARISON_HEAD = ("", "plan", "own roster", "plan - own (paired)")


def comparison(summary: dict) -> list[list[str]]:
    """Rows of the plan-vs-own-roster table: label, then per column the mean +- 95% CI
    half-width with its unit. Metrics a summary lacks (an older engine) are left out."""
    rows = []
    for key, label, scale, unit, fmt in COMPARISON:
        if key not in summary.get("plan", {}):
            continue
        cells = [label]
        for part in ("plan", "own_roster", "difference_plan_minus_own"):
            m = summary[part][key]
            hw = m["ci95"]
            txt = fmt.format(scale * m["mean"]) + ("" if hw is None or hw != hw else " +- " + fmt.format(scale * hw))
            cells.append(f"{txt} {unit}")
        rows.append(cells)
    return rows


def attainment(summary: dict) -> str:
    """One line: intervals meeting the targets, plan and own roster, and the plan's worst."""
    s = summary
    iv = s["intervals"]
    w = iv["worst_plan"]
    t = s["target"]
    target = f"lost <= {100 * t['max_lost_rate']:g}%" + (f" and answered within 3 min >= {100 * t['min_rr_3min']:g}%" if t.get("min_rr_3min") is not None else "")
    return (
        f"Intervals meeting {target}: plan {iv['met_plan']} of {iv['with_target']} "
        f"({iv['miss_confirmed_plan']} confirmed misses, {iv['miss_unresolved_plan']} within noise), own roster {iv['met_own']} of {iv['with_target']} "
        f"({iv['miss_confirmed_own']} confirmed misses); plan's worst: interval {w['interval']} at {100 * w['lost_rate']:.2f} +- {100 * w['ci95']:.2f}% lost"
    )


def report(plan: Plan, folder: Path | None = None) -> str:
    """The plan as text for the terminal: roster, totals with 95% CIs side by side, attainment."""
    s = plan.summary
    lines = [f"{plan.scenario}: plan for {', '.join(s['pools'])} ({s['objective']}; {s['replications']} replications, 95% CI half-widths)"]
    lines.append("Roster (paid heads per shift template):")
    for r in plan.roster.itertuples():
        lines.append(f"  {r.pool:<5} {r.start_h:5.1f}-{r.end_h:4.1f} h  {r.heads:>7,} heads ({r.working:,.1f} working)  {r.cost_cny:>12,.0f} CNY")
    lines.append(f"  total {int(plan.roster['heads'].sum()):,} heads, {s['roster_paid_head_hours']:,.0f} paid head-hours, {s['roster_cost_cny']:,.0f} CNY")
    lines.append(f"{COMPARISON_HEAD[0]:24}{COMPARISON_HEAD[1]:>26}{COMPARISON_HEAD[2]:>26}{COMPARISON_HEAD[3]:>28}")
    for label, *cells in comparison(s):
        lines.append(f"  {label:<22}{cells[0]:>26}{cells[1]:>26}{cells[2]:>28}")
    lines.append(attainment(s))
    for line in forecast_lines(s):
        lines.append(line)
    lines.extend(f"note: {m}" for m in s["messages"])
    lines.append(f"{s['runs']['total']} replications simulated in {s['wall_s']:.0f} s wall time")
    if folder is not None:
        lines.append(f"plan folder: {folder}  (rerun it: cssim scenario={folder / 'plan.yaml'})")
    return "\n".join(lines)


def forecast_lines(summary: dict) -> list[str]:
    """The insurance table of a plan made with ``plan.forecast_cv`` > 0 (none otherwise)."""
    fc = summary.get("forecast")
    if not fc:
        return []
    out = [
        f"Forecast error: cv {fc['forecast_cv']:g}, target held on {100 * fc['service_quantile']:g}% of days "
        f"(planned for a day {fc['multiplier']:.3f} x the forecast); point plan vs robust plan on days at fixed multipliers:"
    ]
    out.append(f"  {'day multiplier':<16}{'point plan lost':>22}{'robust plan lost':>22}{'intervals met (point / robust)':>34}")
    for row in fc["by_multiplier"]:
        out.append(
            f"  {row['multiplier']:<16g}{100 * row['point_lost_rate']:>16.2f} +- {100 * row['point_ci95']:.2f}%"
            f"{100 * row['robust_lost_rate']:>12.2f} +- {100 * row['robust_ci95']:.2f}%{row['point_met']:>20} / {row['robust_met']} of {row['with_target']}"
        )
    out.append(
        f"  roster cost: point {fc['point_cost_cny']:,.0f} CNY, robust {fc['robust_cost_cny']:,.0f} CNY "
        f"(insurance {fc['robust_cost_cny'] - fc['point_cost_cny']:+,.0f} CNY); fresh gamma days: the robust plan met every "
        f"interval's target on {100 * fc['fresh']['robust_share']:.0f}% of {fc['fresh']['days']} days (point plan {100 * fc['fresh']['point_share']:.0f}%)"
    )
    return out
