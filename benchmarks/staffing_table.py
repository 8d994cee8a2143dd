"""The planner's headline table: KPIs with 95% CIs against the temps head count (common random
numbers: every level sees the same customers in replication r), plus bot on vs bot off.

    python benchmarks/staffing_table.py [--scenario semir_double11_2016] [--temps 0,500,...]
        [--reps 5] [--bot-off] [--out FILE]

Run it with ``PYTHONPATH=/path/to/another/checkout`` to measure another version of cssim side by
side (metrics that version does not have print as n/a).
"""

from __future__ import annotations

import argparse
import math
import sys
import time

from common import emit, table

import cssim
from cssim.stats import mean_ci

COLUMNS = (
    ("lost_rate", "lost rate (%)", 100.0),
    ("lost_before_reply", "lost before a reply", 1.0),
    ("lost_after_handover", "lost after a hand-over", 1.0),
    ("dropped_mid_chat", "mid-chat drops", 1.0),
    ("inquiry_conversion", "conversion (%)", 100.0),
    ("bot_share", "bot share (%)", 100.0),
    ("rr_3min", "rr_3min (%)", 100.0),
    ("cost_total", "cost (CNY)", 1.0),
    ("profit", "profit (CNY)", 1.0),
)


def fmt(values: list[float], scale: float) -> str:
    m, hw, _ = mean_ci(v * scale for v in values)
    if m != m:
        return "n/a"
    digits = 2 if scale > 1 else 0
    return f"{m:,.{digits}f} ± {hw:,.{digits}f}" if hw == hw else f"{m:,.{digits}f}"


def others(ms: list[dict]) -> list[str]:
    """Lost rate, drops, conversion and profit cells of the bot on/off table."""
    return [fmt([m["lost_rate"] for m in ms], 100.0), fmt([m["dropped_mid_chat"] for m in ms], 1.0),
            fmt([m["inquiry_conversion"] for m in ms], 100.0), fmt([m["profit"] for m in ms], 1.0)]


def run(scenario: str, overrides: list[str], reps: int) -> list[dict]:
    cfg = cssim.load_scenario(scenario, overrides)
    out = []
    for r in range(reps):
        out.append(cssim.simulate(cfg, replication=r).metrics)
        print(f"  {' '.join(overrides) or 'as shipped'}: replication {r + 1}/{reps} done", file=sys.stderr)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="semir_double11_2016")
    ap.add_argument("--temps", default="0,500,1000,1500,2000,3000", help="temps head counts, comma-separated")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--bot-off", action="store_true", help="also compare the shipped roster with routing.policy=humans_only")
    ap.add_argument("--out", help="also write the markdown table to this file")
    args = ap.parse_args()
    t0 = time.perf_counter()
    rows = []
    for temps in [int(x) for x in args.temps.split(",")]:
        ms = run(args.scenario, [f"staffing.temps.count={temps}"], args.reps)
        rows.append([temps, args.reps] + [fmt([m.get(k, math.nan) for m in ms], s) for k, _, s in COLUMNS])
    body = table(["temps", "reps"] + [label for _, label, _ in COLUMNS], rows)
    if args.bot_off:
        on = run(args.scenario, [], args.reps)
        off = run(args.scenario, ["routing.policy=humans_only"], args.reps)
        lost_on = [m["lost_inquiries"] for m in on]
        lost_off = [m["lost_inquiries"] for m in off]
        diff = [b - a for a, b in zip(lost_on, lost_off)]
        ratio = sum(lost_off) / sum(lost_on) if sum(lost_on) else math.nan
        body += "\n\n" + table(
            ["roster as shipped", "lost inquiries (both kinds)", "lost rate (%)", "mid-chat drops", "conversion (%)", "profit (CNY)"],
            [
                ["bot on (policy as shipped)", fmt(lost_on, 1.0)] + others(on),
                ["bot off (humans_only)", fmt(lost_off, 1.0)] + others(off),
                ["more lost without the bot (paired difference)", fmt(diff, 1.0), "", "", "", ""],
                ["lost without the bot / lost with it (ratio of means)", f"{ratio:,.1f}x", "", "", "", ""],
            ],
        )
    body += f"\n\nWall time {time.perf_counter() - t0:,.0f} s; cssim from {cssim.__file__}."
    emit(f"{args.scenario}: KPIs vs temps head count (mean ± 95% CI half-width over replications)", body, args.out)


if __name__ == "__main__":
    main()
