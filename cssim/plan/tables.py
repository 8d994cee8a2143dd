"""The plan's summary as rows of text, the same in the terminal (:func:`cssim.plan.output.report`)
and on the report page (:mod:`cssim.report`): read from ``summary.json``'s dict, no simulation
imports, so ``cssim report`` stays light.
"""

from __future__ import annotations

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


def forecast_lines(summary: dict) -> list[str]:
    """The insurance table of a plan made with ``plan.forecast_cv`` > 0 (none otherwise)."""
    fc = summary.get("forecast")
    if not fc:
        return []
    out = [
        f"Forecast error: day volume cv {fc['forecast_cv']:g}; every interval's target to hold on {100 * fc['service_quantile']:g}% of days, "
        f"so the robust plan is verified on a day {fc['multiplier']:.3f} x the forecast (the gamma quantile).",
        f"  roster cost: point plan {fc['point_cost_cny']:,.0f} CNY, robust plan {fc['robust_cost_cny']:,.0f} CNY "
        f"(the insurance: {fc['robust_cost_cny'] - fc['point_cost_cny']:+,.0f} CNY)",
        f"  {'day x forecast':<16}{'point plan: lost':>26}{'robust plan: lost':>26}{'intervals meeting (point / robust)':>38}",
    ]
    for row in fc["by_multiplier"]:
        p = f"{100 * row['point_lost_rate']:.2f} +- {100 * row['point_ci95']:.2f} %"
        r = f"{100 * row['robust_lost_rate']:.2f} +- {100 * row['robust_ci95']:.2f} %"
        out.append(f"  {row['multiplier']:<16g}{p:>26}{r:>26}{row['point_met']:>22} / {row['robust_met']} of {row['with_target']}")
    fr = fc["fresh"]
    out.append(
        f"  fresh gamma days ({fr['days']}, seed {fr['seed']}; {100 * fr['share_days_within_quantile']:.0f}% of them at or below x{fc['multiplier']:.3f}): "
        f"an interval met its target on {100 * fr['robust_share']:.0f}% of days with the robust plan (worst interval {100 * fr['robust_share_worst']:.0f}%), "
        f"{100 * fr['point_share']:.0f}% with the point plan (worst {100 * fr['point_share_worst']:.0f}%); each day's own loss, sampling noise included"
    )
    return out
