"""Benchmark: ``cssim plan`` end to end (default: the full semir_double11_2016, temps on 4 h and
8 h templates): wall time, replications simulated, time per step, and what the plan found.

    python benchmarks/plan.py [--scenario NAME] [--workers 2] [--write] [--out FILE] [key=value ...]

Target (issue 10): the full Semir plan in at most 10 minutes on a 2-core machine. The load
average is reported because a shared machine slows every replication down.
"""

from __future__ import annotations

import argparse
import os
import time

from common import emit, table

import cssim
from cssim.plan.output import report, write_plan


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="semir_double11_2016")
    ap.add_argument("--workers", type=int, default=None, help="processes (default: plan.workers)")
    ap.add_argument("--write", action="store_true", help="also write the plan folder under plans/")
    ap.add_argument("--out", help="also write the markdown table to this file")
    ap.add_argument("overrides", nargs="*", help="hydra overrides, e.g. plan.replications=4")
    args = ap.parse_args()

    cfg = cssim.load_scenario(args.scenario, args.overrides)
    load0 = os.getloadavg()
    t0 = time.perf_counter()
    plan = cssim.plan(cfg, workers=args.workers)
    wall = time.perf_counter() - t0
    load1 = os.getloadavg()
    folder = write_plan(plan) if args.write else None
    s = plan.summary
    runs, tm = s["runs"], s["timings_s"]
    rows = [
        ["wall time", f"{wall:,.0f} s", "<= 600 s" if args.scenario == "semir_double11_2016" else "", "yes" if wall <= 600 else "NO"],
        ["replications simulated", f"{runs['total']}", "", ""],
        ["simulated time (sum over replications)", f"{s['simulated_s']:,.0f} s", "", ""],
        ["mean wall time per replication", f"{s['simulated_s'] / runs['total']:,.1f} s", "", ""],
        ["parallel speed-up (simulated / wall)", f"{s['simulated_s'] / wall:.2f}x", "", ""],
        ["step 1, Erlang-A start", f"{tm['requirements']:,.1f} s", "", ""],
        [f"step 2, correction ({s['correction']['iterations']} iterations, {runs['correction']} replications)", f"{tm['correction']:,.0f} s", "", ""],
        [f"step 3, cover ({s['verification_rounds']} solve(s))", f"{tm['cover']:,.1f} s", "", ""],
        [f"step 4, verification ({s['verification_rounds']} round(s), {runs['verification']} replications)", f"{tm['verification']:,.0f} s", "", ""],
        [f"own roster, same seeds ({runs['own_roster']} replications)", f"{tm['own_roster']:,.0f} s", "", ""],
        ["load average (1 min) at start / end", f"{load0[0]:.1f} / {load1[0]:.1f}", "", ""],
    ]
    body = table(["measure", "value", "target", "met"], rows) + "\n\n```\n" + report(plan, folder) + "\n```"
    emit(f"plan: cssim plan on {args.scenario}", body, args.out)


if __name__ == "__main__":
    main()
