"""``cssim report DIR``: one self-contained ``report.html`` to forward, from a run, a sweep or
a plan folder.

The page needs nothing but itself: styles inline, charts embedded as base64 PNG, no scripts
from elsewhere. It says what was simulated (the scenario and the overrides), then

* a run (``metrics.json``, ``intervals.csv``): the KPI table, estimate and 95% CI half-width with
  units, and the day by planning interval;
* a sweep (job folders ``0/``, ``1/``, ... or ``points.csv``): the points with their CIs, the
  recommended point under a stated rule, the sweep's charts;
* a plan (``plan.yaml``, ``summary.json``, ``requirements.csv``, ``roster.csv``,
  ``verification.csv``, ``charts/``, as ``cssim plan`` writes them): the plan against the
  scenario's own roster as the terminal prints it, the roster, the plan's charts, and the
  verification by interval, rates in %.

The recommendation rule (sweeps): the cheapest point (mean ``cost_total``) whose lost rate is
within the target even at the top of its 95% CI (mean + half-width <= ``max_lost_rate``,
default 3%); when no point meets it, the point with the highest mean profit, with its CI.

    cssim report multirun/semir_double11_2016/2026-11-23_15-26-36 [--max-lost-rate 0.05]
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cssim.io import write_atomic

#: The KPIs a planner reads first: (metric, label, display scale, display unit).
KPIS = (
    ("inquiries", "Inquiries", 1, "inquiries"),
    ("lost_inquiries", "Lost inquiries", 1, "inquiries"),
    ("lost_rate", "Lost rate", 100, "%"),
    ("response_rate", "Response rate", 100, "%"),
    ("rr_3min", "Answered within 3 min", 100, "%"),
    ("avg_first_response_s", "Mean first response", 1, "s"),
    ("p90_first_response_s", "p90 first response", 1, "s"),
    ("inquiry_conversion", "Inquiry conversion", 100, "%"),
    ("payment_rate", "Payment rate", 100, "%"),
    ("gmv", "GMV", 1, "CNY"),
    ("bot_share", "Bot share of receptions", 100, "%"),
    ("utilization_ft", "Utilization full-time", 100, "%"),
    ("utilization_temps", "Utilization temps", 100, "%"),
    ("receptions_per_8h_ft", "Receptions per 8 h, full-time", 1, "chats/agent"),
    ("receptions_per_8h_temps", "Receptions per 8 h, temps", 1, "chats/agent"),
    ("cost_total", "Cost", 1, "CNY"),
    ("profit", "Profit", 1, "CNY"),
)


@dataclass
class Page:
    """What the HTML page is made of, in order."""

    title: str
    kind: str
    facts: list[tuple[str, str]] = field(default_factory=list)
    sections: list[str] = field(default_factory=list)  # HTML fragments
    charts: int = 0


# --------------------------------------------------------------------------------------------
# Formatting


def _num(x: Any, scale: float = 1.0, digits: int | None = None) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    if isinstance(x, (int, np.integer)) and scale == 1:
        return f"{int(x):,}"
    v = float(x) * scale
    if digits is None:
        digits = 2 if abs(v) < 1000 else 0
    return f"{v:,.{digits}f}"


def _est(mean: Any, ci: Any, scale: float = 1.0, digits: int | None = None) -> str:
    """``mean ± half-width`` (the half-width left out when undefined, e.g. one replication)."""
    m = _num(mean, scale, digits)
    if ci is None or (isinstance(ci, float) and not math.isfinite(ci)):
        return m
    return f"{m} ± {_num(ci, scale, digits)}"


#: Decimals by display unit: whole inquiries and yuan, seconds to a tenth, percents to 0.01.
_DIGITS = {"inquiries": 1, "CNY": 0, "s": 1, "%": 2, "chats/agent": 1}


def _table(header: list[str], rows: list[list[str]], cls: str = "") -> str:
    h = "".join(f"<th>{html.escape(str(c))}</th>" for c in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in rows)
    return f'<table class="{cls}"><thead><tr>{h}</tr></thead><tbody>{body}</tbody></table>'


def _frame_table(df: pd.DataFrame, max_rows: int = 200) -> str:
    """A CSV table as HTML, numbers formatted, at most ``max_rows`` rows (the rest counted)."""
    rows = []
    for r in df.head(max_rows).to_dict("records"):  # keeps each column's type
        rows.append([_num(v) if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) else str(v) for v in r.values()])
    out = _table([str(c) for c in df.columns], rows, "data")
    if len(df) > max_rows:
        out += f"<p class='note'>… {len(df) - max_rows} more rows in the CSV file.</p>"
    return out


def _png(fig) -> str:
    """A figure (:func:`cssim.charts.subplots`: no pyplot, nothing to close) as base64 PNG."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _img(b64: str, alt: str) -> str:
    return f'<figure><img class="chart" alt="{html.escape(alt)}" src="data:image/png;base64,{b64}"><figcaption>{html.escape(alt)}</figcaption></figure>'


# --------------------------------------------------------------------------------------------
# Folder kinds


def folder_kind(folder: Path) -> str:
    """``run``, ``sweep`` or ``plan``; ``ValueError`` naming the folder otherwise."""
    if not folder.is_dir():
        raise ValueError(f"report: {str(folder)!r} is not a folder")
    if (folder / "plan.yaml").is_file() or (folder / "summary.json").is_file() and (folder / "roster.csv").is_file():
        return "plan"
    if (folder / "points.csv").is_file() or any(p.is_dir() and p.name.isdigit() and (p / "metrics.json").is_file() for p in folder.iterdir()):
        return "sweep"
    if (folder / "metrics.json").is_file():
        return "run"
    raise ValueError(
        f"report: {str(folder)!r} is not a cssim run (metrics.json), sweep (points.csv, 0/, 1/, ...) "
        "or plan (plan.yaml, summary.json) folder"
    )


def _hydra_config(folder: Path) -> dict:
    f = folder / ".hydra" / "config.yaml"
    if not f.is_file():
        return {}
    from omegaconf import OmegaConf

    try:
        return OmegaConf.to_container(OmegaConf.load(f), resolve=False) or {}
    except Exception:
        return {}


def _scenario_facts(cfg: dict) -> list[tuple[str, str]]:
    """The scenario's headline settings from a job's saved config."""
    if not cfg:
        return []
    facts = []
    if cfg.get("description"):
        facts.append(("Description", str(cfg["description"])))
    if "horizon_h" in cfg:
        facts.append(("Horizon", f"{cfg['horizon_h']:g} h (warm-up {cfg.get('warmup_h', 0):g} h, intervals of {cfg.get('interval_min', 15):g} min)"))
    arr = cfg.get("arrivals", {})
    if arr.get("rate_per_min") is not None:
        facts.append(("Arrivals", f"{arr['rate_per_min']:g} inquiries/min"))
    elif arr:
        facts.append(("Arrivals", f"{arr.get('total', 0):,.0f} inquiries, profile {arr.get('profile')}"))
    for pool, label in (("ft", "Full-time"), ("temps", "Temps"), ("bot", "Bot")):
        p = cfg.get("staffing", {}).get(pool, {})
        if p.get("count"):
            facts.append((label, f"{p['count']:,} heads, concurrency {p.get('concurrency')}, speed {p.get('speed')}"))
    if cfg.get("routing", {}).get("policy"):
        facts.append(("Routing", str(cfg["routing"]["policy"])))
    return facts


def _kpi_rows(summary: dict) -> list[list[str]]:
    rows = []
    for key, label, scale, unit in KPIS:
        s = summary.get(key)
        if s is None:
            continue
        rows.append([label, _est(s.get("mean"), s.get("ci95"), scale, _DIGITS.get(unit)), unit, str(s.get("n", ""))])
    return rows


def _run_page(folder: Path) -> Page:
    data = json.loads((folder / "metrics.json").read_text())
    cfg = _hydra_config(folder)
    n = len(data.get("replications", []))
    page = Page(f"cssim run: {data.get('scenario', folder.name)}", "run")
    page.facts = [
        ("Scenario", str(data.get("scenario"))),
        ("Overrides", " ".join(data.get("overrides", [])) or "none"),
        ("Seed, replications", f"{data.get('seed')}, {n}"),
        *_scenario_facts(cfg),
        ("Folder", str(folder.resolve())),
    ]
    note = "Estimate ± 95% confidence-interval half-width over the replications" + (
        "" if n > 1 else " (one replication: no CI)"
    )
    page.sections.append(f"<h2>Key figures</h2><p class='note'>{note}.</p>" + _table(["KPI", "estimate", "unit", "n"], _kpi_rows(data["summary"]), "kpi"))
    iv_file = folder / "intervals.csv"
    if iv_file.is_file():
        from cssim.sweep import intraday_chart

        fig = intraday_chart(pd.read_csv(iv_file), f"{data.get('scenario')}: the day by planning interval")
        page.sections.append("<h2>The day, interval by interval</h2>" + _img(_png(fig), "Arrivals and lost inquiries, queue and first response, heads on shift by interval"))
        page.charts += 1
    return page


def recommend(points: pd.DataFrame, swept: list[str], max_lost_rate: float) -> tuple[str, pd.Series | None, str]:
    """The recommended sweep point: (rule as stated, the row, why). See the module doc."""
    rule = (
        f"the cheapest point whose lost rate stays within {100 * max_lost_rate:g}% at the top of its "
        "95% CI (mean + half-width); if none does, the point with the highest mean profit"
    )
    if points.empty:
        return rule, None, "no point has results"
    upper = points["lost_rate_mean"] + points["lost_rate_ci95"].fillna(0)
    ok = points[upper <= max_lost_rate]
    if not ok.empty:
        row = ok.sort_values(["cost_total_mean", "lost_rate_mean"], kind="stable").iloc[0]
        why = (
            f"{len(ok)} of {len(points)} points meet the target; this is the cheapest "
            f"(cost {_est(row['cost_total_mean'], row['cost_total_ci95'])} CNY, lost rate "
            f"{_est(row['lost_rate_mean'], row['lost_rate_ci95'], 100)} %)"
        )
        return rule, row, why
    row = points.sort_values("profit_mean", ascending=False, kind="stable").iloc[0]
    why = (
        f"no point keeps its lost rate within {100 * max_lost_rate:g}%; the most profitable is shown "
        f"(profit {_est(row['profit_mean'], row['profit_ci95'])} CNY, lost rate "
        f"{_est(row['lost_rate_mean'], row['lost_rate_ci95'], 100)} %)"
    )
    return rule, row, why


def _sweep_page(folder: Path, max_lost_rate: float) -> Page:
    from cssim.sweep import aggregate

    charts_dir = folder / "charts"
    if not (folder / "points.csv").is_file() or not charts_dir.is_dir():
        aggregate(folder)  # a sweep whose aggregation was interrupted: build the tables first
    points = pd.read_csv(folder / "points.csv")
    fixed = {"point", "replications"}
    swept = [c for c in points.columns if c not in fixed and not c.endswith(("_mean", "_ci95"))]
    base: list[str] = []
    mr = folder / "multirun.yaml"
    if mr.is_file():
        from omegaconf import OmegaConf

        try:
            base = [str(o) for o in OmegaConf.load(mr).hydra.overrides.task]
        except Exception:
            base = []
    first_job = next((p for p in sorted(folder.iterdir()) if p.is_dir() and p.name.isdigit()), None)
    cfg = _hydra_config(first_job) if first_job else {}
    scenario = cfg.get("name") or folder.parent.name
    page = Page(f"cssim sweep: {scenario}", "sweep")
    page.facts = [
        ("Scenario", str(scenario)),
        ("Sweep", " ".join(base) or ", ".join(swept)),
        ("Points", f"{len(points)} ({int(points['replications'].min())}-{int(points['replications'].max())} replications each)"),
        *[f for f in _scenario_facts(cfg) if f[0] in ("Description", "Horizon", "Arrivals", "Routing")],
        ("Folder", str(folder.resolve())),
    ]
    rule, row, why = recommend(points, swept, max_lost_rate)
    rec = f"<h2>Recommended point</h2><p><b>Rule:</b> {html.escape(rule)}.</p>"
    if row is not None:
        setting = ", ".join(f"{k} = {points.at[row.name, k]}" for k in swept) or f"point {int(row['point'])}"
        rec += f"<p class='rec'><b>{html.escape(setting)}</b>: {html.escape(why)}.</p>"
    else:
        rec += f"<p>{html.escape(why)}.</p>"
    page.sections.append(rec)

    cols = [("lost_rate", "Lost rate", 100, "%"), ("rr_3min", "Within 3 min", 100, "%"),
            ("inquiry_conversion", "Conversion", 100, "%"), ("cost_total", "Cost", 1, "CNY"), ("profit", "Profit", 1, "CNY")]
    header = swept + ["reps"] + [f"{label} ({unit})" for _, label, _, unit in cols]
    rows = []
    for r in points.to_dict("records"):  # records keep each column's type (2, not 2.0)
        rows.append([str(r[k]) for k in swept] + [str(int(r["replications"]))] + [_est(r.get(f"{m}_mean"), r.get(f"{m}_ci95"), s) for m, _, s, _ in cols])
    page.sections.append(
        "<h2>Sweep points</h2><p class='note'>Mean ± 95% CI half-width over replications; replication r sees the same "
        "customers at every point (common random numbers), so differences between points are sharper than the "
        "separate CIs suggest. Every metric is in points.csv / points.parquet.</p>" + _table(header, rows, "data")
    )
    failed = folder / "failed_points.csv"
    if failed.is_file():
        page.sections.append("<h2>Failed points</h2>" + _frame_table(pd.read_csv(failed)))
    titles = {"lost_and_conversion.png": "Lost inquiries and conversion against the swept key (95% CI bands)",
              "cost_and_profit.png": "Cost and profit against the swept key (95% CI bands)",
              "intraday.png": "The middle point's day, interval by interval"}
    figs = []
    pngs = sorted(charts_dir.glob("*.png"), key=lambda p: (list(titles).index(p.name) if p.name in titles else len(titles), p.name)) if charts_dir.is_dir() else []
    for png in pngs:
        figs.append(_img(base64.b64encode(png.read_bytes()).decode("ascii"), titles.get(png.name, png.stem)))
    if figs:
        page.sections.append("<h2>Charts</h2>" + "".join(figs))
        page.charts += len(figs)
    return page


#: The plan's charts, as :func:`cssim.plan.output.charts` writes them, in page order.
PLAN_CHARTS = {
    "required_vs_planned.png": "Working heads by interval: required (reference pool) vs planned, every pool on shift, the bot's chat slots below",
    "loss_vs_target.png": "Lost rate by interval (% of arrivals, both kinds of loss) vs the target, plan and the scenario's own roster (95% CI)",
    "rr_3min_vs_target.png": "Answered within 3 minutes by interval (% of arrivals) vs the target, plan and own roster (95% CI)",
}


def _pct(x: Any) -> str:
    return _num(x, 100, 2)


def _plan_intervals(ver: pd.DataFrame, req: pd.DataFrame | None, pools: list[str], rr_target: bool) -> str:
    """The verification by interval, compact enough for the page: time, arrivals, lost % of
    plan and own roster with CIs, target, 3-minute rate when it has a target, planned working
    heads, verdict."""
    header = ["interval", "arrivals / day", "plan lost (%)", "own roster lost (%)", "target (%)"]
    if rr_target:
        header += ["plan within 3 min (%)", "target (%)"]
    header += [f"planned {p} working" for p in pools] + ["verdict"]
    rows = []
    for i, r in ver.iterrows():
        a, b = r["start_h"], r["end_h"]
        t = f"{int(a):02d}:{int(round(a % 1 * 60)):02d}-{int(b):02d}:{int(round(b % 1 * 60)):02d}"
        row = [t, _num(r.get("arrivals_per_replication"), 1, 1), _est(r["lost_rate"], r.get("lost_rate_ci95"), 100, 2),
               _est(r.get("own_lost_rate"), r.get("own_lost_rate_ci95"), 100, 2), _pct(r.get("target_lost_rate"))]
        if rr_target:
            row += [_est(r.get("rr_3min"), r.get("rr_3min_ci95"), 100, 2), _pct(r.get("target_rr_3min"))]
        for p in pools:
            col = f"planned_working_{p}"
            row.append(_num(req[col].iloc[i], 1, 0) if req is not None and col in req else "n/a")
        if pd.isna(r.get("target_lost_rate")):
            verdict = "no target"
        elif bool(r.get("miss_confirmed", False)):
            verdict = "misses (confirmed)"
        elif bool(r.get("miss_unresolved", False)):
            verdict = "misses within noise"
        else:
            verdict = "meets"
        rows.append(row + [verdict])
    return _table(header, rows, "data")


def _plan_verdict(summary: dict) -> str:
    """The plan page's one-line verdict: a profit plan is measured against the target, not held
    to it; a cost plan holds when its last verification round confirmed no miss."""
    iv = summary.get("intervals", {})
    within, confirmed = int(iv.get("miss_unresolved_plan", 0)), int(iv.get("miss_confirmed_plan", 0))
    if summary.get("objective") == "profit":
        return "profit-seeking: the target is measured, not held (see the intervals line)"
    if summary.get("verified") and not summary.get("unreachable"):
        return "holds in every interval"
    if within and not confirmed and not summary.get("unreachable"):
        return f"not shown to hold: no miss confirmed, but {within} interval(s) within noise of the target (named in the notes; more plan.max_replications settles them)"
    return "does not hold everywhere: see the notes"


def _plan_page(folder: Path) -> Page:
    """A plan folder: what was planned, the plan against the scenario's own roster (the table
    the terminal prints), the roster, the plan's charts (drawn once, by ``cssim plan``), and
    the verification by interval. Rates in %, money in CNY."""
    from cssim.plan.tables import COMPARISON_HEAD, attainment, comparison, forecast_lines

    plan: dict = {}
    if (folder / "plan.yaml").is_file():
        from omegaconf import OmegaConf

        try:
            plan = OmegaConf.to_container(OmegaConf.load(folder / "plan.yaml"), resolve=False) or {}
        except Exception:
            plan = {}
    summary = json.loads((folder / "summary.json").read_text()) if (folder / "summary.json").is_file() else {}
    scenario = summary.get("scenario") or plan.get("name") or folder.parent.name
    page = Page(f"cssim plan: {scenario}", "plan")
    t = summary.get("target", {})
    facts = [("Scenario", str(scenario)), *_scenario_facts(plan)]
    if summary:
        goal = "cheapest roster meeting every interval's target" if summary.get("objective") == "cost" else "profit-seeking roster"
        facts.append(("Planned", f"{', '.join(summary.get('pools', []))} on shift templates: the {goal}"))
        if t:
            facts.append(("Target per interval", f"lost ≤ {100 * t['max_lost_rate']:g} %" + (f", answered within 3 min ≥ {100 * t['min_rr_3min']:g} %" if t.get("min_rr_3min") is not None else "")))
        vt = summary.get("verification_test", {})
        facts.append(("Verification", f"seed {summary.get('seeds', {}).get('verification')}, {summary.get('replications')} replications (fresh customers)"
                      + (f"; a miss is confirmed by a one-sided {100 * vt['one_sided_level']:g} % test" if vt else "")))
        facts.append(("Verdict", _plan_verdict(summary)))
    facts.append(("Folder", str(folder.resolve())))
    page.facts = facts

    if summary.get("plan"):
        rows = comparison(summary)
        page.sections.append("<h2>Plan vs the scenario's own roster</h2>" + _table(list(COMPARISON_HEAD), rows, "kpi")
                             + "<p class='note'>Mean ± 95% CI half-width over the verification's replications; the difference is paired (same customers).</p>")
        if "intervals" in summary:
            page.sections.append(f"<p>{html.escape(attainment(summary))}</p>")
        fc = forecast_lines(summary)
        if fc:
            page.sections.append("<h2>Forecast error: what the insurance costs</h2><pre>" + html.escape("\n".join(fc)) + "</pre>")
        notes = summary.get("messages", [])
        if notes:
            page.sections.append("<h2>Notes</h2><ul>" + "".join(f"<li>{html.escape(m)}</li>" for m in notes) + "</ul>")

    roster = folder / "roster.csv"
    if roster.is_file():
        r = pd.read_csv(roster)
        names = {"pool": "pool", "start_h": "start (h)", "end_h": "end (h)", "length_h": "length (h)", "heads": "paid heads",
                 "working": "working heads (mean)", "cost_cny": "cost (CNY)"}
        r = r[[c for c in names if c in r.columns]].rename(columns=names) if set(names) & set(r.columns) else r
        page.sections.append("<h2>Roster (heads per shift template)</h2>" + _frame_table(r))

    charts_dir = folder / "charts"
    pngs = [charts_dir / n for n in PLAN_CHARTS if (charts_dir / n).is_file()]
    if pngs:
        page.sections.append("<h2>Charts</h2>" + "".join(_img(base64.b64encode(p.read_bytes()).decode("ascii"), PLAN_CHARTS[p.name]) for p in pngs))
        page.charts += len(pngs)

    ver_file = folder / "verification.csv"
    if ver_file.is_file():
        ver = pd.read_csv(ver_file)
        req = pd.read_csv(folder / "requirements.csv") if (folder / "requirements.csv").is_file() else None
        if {"start_h", "end_h", "lost_rate"} <= set(ver.columns):
            body = _plan_intervals(ver, req, list(summary.get("pools", [])), t.get("min_rr_3min") is not None)
        else:
            body = _frame_table(ver)
        page.sections.append("<h2>Verification by interval</h2>" + body
                             + "<p class='note'>The full tables (requirements, correction log) are the CSV files in the folder.</p>")
    return page


# --------------------------------------------------------------------------------------------
# The page

_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2em auto;max-width:1100px;color:#222;padding:0 1em}
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.6em 0;font-size:.92em;max-width:100%}pre{white-space:pre-wrap;font-size:.85em}th,td{border:1px solid #ccc;padding:.25em .6em;text-align:right}
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}table.facts td{text-align:left}
.note{color:#555;font-size:.9em}.rec{background:#eef7ee;border-left:4px solid #3a3;padding:.5em .8em}
figure{margin:1em 0}img.chart{max-width:100%;border:1px solid #eee}figcaption{color:#555;font-size:.9em}
.broken{color:#b00;font-weight:bold}
"""

# Marks a chart that failed to decode, visibly, and counts those that did (data-charts-loaded);
# data-overflow-px: how far the page runs past the window's width (0: nothing off the page).
_JS = """
window.addEventListener('load',function(){var ok=0;document.querySelectorAll('img.chart').forEach(function(i){
if(i.complete&&i.naturalWidth>0){ok++}else{var p=document.createElement('p');p.className='broken';
p.textContent='This chart could not be shown.';i.after(p)}});document.body.setAttribute('data-charts-loaded',String(ok));
var d=document.documentElement;document.body.setAttribute('data-overflow-px',String(Math.max(0,d.scrollWidth-d.clientWidth)));});
"""


def render(page: Page) -> str:
    from datetime import datetime

    from cssim import __version__

    facts = "".join(f"<tr><td><b>{html.escape(k)}</b></td><td>{html.escape(v)}</td></tr>" for k, v in page.facts)
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(page.title)}</title><style>{_CSS}</style></head>"
        f"<body data-kind='{page.kind}' data-charts='{page.charts}'>"
        f"<h1>{html.escape(page.title)}</h1>"
        f"<p class='note'>Written by cssim {__version__} on {datetime.now():%Y-%m-%d %H:%M}. Times in seconds, money in CNY, "
        "rates in %; every estimate with its 95% confidence interval.</p>"
        f"<table class='facts'>{facts}</table>" + "".join(page.sections) + f"<script>{_JS}</script></body></html>\n"
    )


def build_report(folder: Path | str, max_lost_rate: float = 0.03) -> Path:
    """Write ``folder/report.html`` for a run, sweep or plan folder and return its path.
    Raises ``ValueError`` (one line) for a folder that is none of these."""
    folder = Path(folder)
    if not 0 < max_lost_rate < 1:
        raise ValueError(f"--max-lost-rate={max_lost_rate}: must be a share in (0, 1), e.g. 0.03")
    kind = folder_kind(folder)
    page = {"run": _run_page, "plan": _plan_page}.get(kind)
    page = page(folder) if page else _sweep_page(folder, max_lost_rate)
    out = folder / "report.html"
    text = render(page)
    write_atomic(out, lambda p: p.write_text(text, encoding="utf-8"))
    return out


def report_command(args: list[str]) -> int:
    """``cssim report FOLDER [--max-lost-rate 0.03]``; the exit status. Bad input, or a folder
    that cannot be written: one line, exit status 2, nothing written."""
    from cssim.commands import report_parser

    return run_report(report_parser().parse_args(args))


def run_report(ns) -> int:
    """``cssim report`` with parsed arguments (:func:`cssim.commands.report_parser`)."""
    from cssim.io import check_writable, os_error_line

    folder = Path(ns.folder)
    try:
        folder_kind(folder)  # a folder that is no run, sweep or plan: say so before anything else
        check_writable(folder)
        out = build_report(folder, ns.max_lost_rate)
    except ValueError as e:
        print(f"cssim: error: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"cssim: error: {os_error_line(e)}", file=sys.stderr)
        return 2
    print(f"report: {out}")
    return 0


__all__ = ["build_report", "folder_kind", "recommend", "report_command", "run_report"]
