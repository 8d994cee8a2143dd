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
from cssim.plan.tables import COMPARISON_HEAD, attainment, comparison, forecast_lines


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
    """Heads required vs planned by interval (every pool on shift, the bot included); lost
    rate by interval vs the target; with ``plan.min_rr_3min`` set, the 3-minute rate vs its
    floor. Rates in %."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    req, ver = plan.requirements, plan.verification
    pools = plan.summary["pools"]
    ref = pools[0]
    x = np.append(req["start_h"].to_numpy(), req["end_h"].to_numpy()[-1])

    def step(ax, y, **kw):
        y = np.asarray(y, dtype=float)
        ax.stairs(y, x, baseline=None, **kw)

    paths = []
    fig, (ax, axb) = plt.subplots(2, 1, figsize=(11, 6.2), sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    step(ax, req["erlang_a_start"], color="tab:gray", ls=":", label=f"Erlang-A start ({ref}, working)")
    step(ax, req["required"], color="black", lw=1.6, label=f"required ({ref}, working)")
    for p, color in zip(pools, ("tab:blue", "tab:green")):
        step(ax, req[f"planned_working_{p}"], color=color, lw=1.3, label=f"planned {p}, working")
        step(ax, req[f"planned_paid_{p}"], color=color, ls="--", alpha=0.7, label=f"planned {p}, paid")
        step(ax, req[f"own_working_{p}"], color="tab:red", alpha=0.6, label=f"scenario's own {p}, working")
    for p, color in (("ft", "tab:purple"), ("temps", "tab:olive")):
        if p not in pools and f"heads_{p}" in ver and ver[f"heads_{p}"].max() > 0:
            step(ax, ver[f"heads_{p}"], color=color, alpha=0.8, label=f"{p} (not planned), working")
    ax.set_ylabel("working heads" + (f" ({ref}-equivalent)" if len(pools) > 1 else ""))
    ax.set_title(f"{plan.scenario}: heads required vs planned by interval")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    bot = plan.config.staffing.bot
    slots = ver["heads_bot"].to_numpy() * bot.concurrency if "heads_bot" in ver else np.zeros(len(ver))
    step(axb, slots, color="tab:orange", label=f"bot: chat slots on shift ({bot.concurrency:,} per bot)")
    axb.set_ylabel("bot slots")
    axb.set_xlabel("hour of horizon")
    axb.grid(alpha=0.3)
    axb.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    path = out / "required_vs_planned.png"
    write_png(path, fig)
    plt.close(fig)
    paths.append(path)

    width = float((ver["end_h"] - ver["start_h"]).iloc[0])
    mid = ver["start_h"].to_numpy() + width / 2
    excluded = ~ver["target_lost_rate"].notna().to_numpy()

    def rate_chart(key: str, target: float, ylabel: str, title: str, name: str, floor: bool) -> Path:
        fig, ax = plt.subplots(figsize=(11, 4.2))
        series = (("", "plan (mean, 95% CI)", "o", "tab:blue", 0.0), ("own_", "scenario's own roster (same seeds)", "s", "tab:red", width / 4))
        if floor:
            lo_plan = np.nanmin((ver[key] - ver[f"{key}_ci95"].fillna(0)).to_numpy(), initial=1.0)
            bottom = 100 * max(0.0, min(target - 2 * (1 - target), 0.98 * lo_plan))
            top = 100.0
        else:
            plan_top = np.nanmax((ver[key] + ver[f"{key}_ci95"].fillna(0)).to_numpy(), initial=0.0)
            bottom, top = 0.0, 100 * max(3 * target, 1.15 * plan_top, 1e-3)
        for prefix, label, marker, color, dx in series:
            if f"{prefix}{key}" not in ver:
                continue
            y = 100 * ver[f"{prefix}{key}"].to_numpy()
            hw = 100 * ver[f"{prefix}{key}_ci95"].fillna(0).to_numpy() if f"{prefix}{key}_ci95" in ver else np.zeros(len(y))
            ax.errorbar(mid + dx, y, yerr=hw, fmt=marker, ms=3, color=color, alpha=0.8 if prefix else 1.0, label=label)
            off = (y < bottom) if floor else (y > top)
            if off.any():  # beyond the axis: a triangle on the edge, the value written beside it
                edge = bottom + 0.03 * (top - bottom) if floor else top - 0.03 * (top - bottom)
                ax.plot(mid[off] + dx, np.full(off.sum(), edge), "v" if floor else "^", color=color, ms=6)
                for xx, yy in zip(mid[off] + dx, y[off]):
                    ax.annotate(f"{yy:.0f}%", (xx, edge), textcoords="offset points", xytext=(0, 6 if floor else -11), ha="center", fontsize=6, color=color)
        ax.set_ylim(bottom, top)
        ax.axhline(100 * target, color="black", ls="--", label=f"target: {'at least' if floor else 'at most'} {100 * target:g}%")
        for i in np.flatnonzero(excluded):
            ax.axvspan(ver["start_h"].iloc[i], ver["end_h"].iloc[i], color="0.9")
        path = out / name
        return _finish(fig, ax, ylabel, title, path)

    seed = plan.summary["seeds"]["verification"]
    paths.append(rate_chart("lost_rate", plan.summary["target"]["max_lost_rate"], "lost inquiries (% of arrivals)",
                            f"{plan.scenario}: lost rate by interval vs target (verification seed {seed})", "loss_vs_target.png", False))
    rr_floor = plan.summary["target"].get("min_rr_3min")
    if rr_floor is not None:
        paths.append(rate_chart("rr_3min", rr_floor, "answered within 3 min (% of arrivals)",
                                f"{plan.scenario}: 3-minute response rate by interval vs target (verification seed {seed})", "rr_3min_vs_target.png", True))
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


def report(plan: Plan, folder: Path | None = None) -> str:
    """The plan as text for the terminal: roster, totals with 95% CIs side by side, attainment."""
    s = plan.summary
    lines = [f"{plan.scenario}: plan for {', '.join(s['pools'])} ({s['objective']}; {s['replications']} replications, 95% CI half-widths)"]
    if s.get("forecast"):
        lines[0] += f"; insured for forecast error: verified on a day {s['forecast']['multiplier']:.3f} x the forecast"
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
