"""Benchmark: the two engines side by side, the fused kernel (``engine="kernel"``) and the SimPy
reference (``engine="simpy"``), with a textbook SimPy model (a process per customer,
``request | timeout``) where the model is the textbook one: M/M/1000+M (950/min, 1 min
service, 2 min patience, ~200k customers) and a quarter-volume Semir day (75k inquiries,
18 ft, 375 temps, bot 2000 slots). Reports customers per second of wall time (median of
--repeats, each a whole ``cssim.simulate`` call) and the reference's slowdown.

    python benchmarks/engines.py [--repeats 3] [--cases erlang_a semir_quarter] [--out FILE]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from baselines import textbook_simpy  # noqa: E402
from common import emit, median, table  # noqa: E402

import cssim  # noqa: E402

N, RATE, SERVICE_MIN, PATIENCE_MIN = 1000, 950.0, 1.0, 2.0
CASES = {
    "erlang_a": ("erlang_a", [f"staffing.ft.count={N}", f"arrivals.rate_per_min={RATE}", "horizon_h=3.508772",
                              "warmup_h=0", "interval_min=60"]),
    "semir_quarter": ("semir_double11_2016", ["arrivals.total=75000", "staffing.ft.count=18", "staffing.temps.count=375",
                                              "staffing.bot.concurrency=2000"]),
}


def run_engine(case: str, engine: str, seed: int) -> tuple[int, float]:
    scenario, overrides = CASES[case]
    cfg = cssim.load_scenario(scenario, overrides)
    t0 = time.perf_counter()
    res = cssim.simulate(cfg, seed=seed, engine=engine)
    return int(res.metrics["inquiries"]), time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--cases", nargs="+", choices=sorted(CASES), default=sorted(CASES))
    ap.add_argument("--out")
    args = ap.parse_args()
    rows = []
    for case in args.cases:
        walls: dict[str, list[float]] = {}
        n = {}
        for r in range(args.repeats):  # interleaved, so drifts of a shared machine hit all alike
            for engine in ("kernel", "simpy"):
                n[engine], w = run_engine(case, engine, seed=2016 + r)
                walls.setdefault(engine, []).append(w)
            if case == "erlang_a":
                out = textbook_simpy.run(RATE, SERVICE_MIN, PATIENCE_MIN, N, n["kernel"], 2016 + r)  # same arrivals count
                n["textbook"] = n["kernel"]
                walls.setdefault("textbook", []).append(out["wall_total_s"])  # building included, as for cssim
        kernel = median(walls["kernel"])
        for name, label in (("kernel", "cssim kernel (engine='kernel')"), ("simpy", "cssim reference (engine='simpy')"),
                            ("textbook", "textbook SimPy (process per customer)")):
            if name in walls:
                w = median(walls[name])
                rows.append([case, label, n[name], f"{w:.2f}", f"{n[name] / w:,.0f}", f"{w / kernel:.2f}x"])
    body = table(["case", "engine", "customers", "wall s (median)", "customers/s", "wall / kernel"], rows)
    emit("engines: the fused kernel, the SimPy reference, textbook SimPy", body, args.out)


if __name__ == "__main__":
    main()
