"""Pinned scenario outputs: every shipped scenario at a fixed seed and a CI-sized scale.

The pins live in ``tests/regression/pins/<scenario>.json`` (readable, under version control).
Regenerate them on purpose — after a deliberate model change named in CHANGELOG.md — with

    python tests/regression/pins.py

and never to make a failing test pass without knowing why the numbers moved.
"""

from __future__ import annotations

import json
import math
import platform
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
PIN_DIR = HERE / "pins"

# CI-sized versions of each scenario: volumes and head counts scaled together so the load
# stays of the same order; one replication at the scenario's own seed.
CASES: dict[str, list[str]] = {
    "erlang_a": ["horizon_h=6"],
    "semir_double11_2016": [
        "arrivals.total=15000", "staffing.ft.count=4", "staffing.temps.count=75", "staffing.bot.concurrency=400",
    ],
    "small_shop_618": [],
    "bot_heavy_2019": [
        "arrivals.total=15000", "staffing.ft.count=4", "staffing.temps.count=30", "staffing.bot.concurrency=250",
    ],
    "two_wave_2022": [
        "arrivals.total=12000", "staffing.ft.count=2", "staffing.temps.count=10", "staffing.bot.concurrency=30",
    ],
}


# Engine diagnostics that say how the work was done, not what the model computed: a faster
# engine may change them without changing a single result.
NOT_PINNED = ("events",)


def compute(name: str) -> dict[str, float]:
    import cssim

    cfg = cssim.load_scenario(name, overrides=CASES[name] + ["replications=1"])
    m = cssim.simulate(cfg, seed=cfg.seed, replication=0).metrics
    return {k: v for k, v in m.items() if k not in NOT_PINNED}


def _json_number(v):
    return None if isinstance(v, float) and not math.isfinite(v) else v


def write_pin(name: str) -> Path:
    m = compute(name)
    data = {
        "scenario": name,
        "overrides": CASES[name],
        "made_with": {"numpy": np.__version__, "python": platform.python_version()},
        "metrics": {k: _json_number(v) for k, v in m.items()},
    }
    path = PIN_DIR / f"{name}.json"
    path.write_text(json.dumps(data, indent=2) + "\n")
    return path


def main() -> None:
    PIN_DIR.mkdir(exist_ok=True)
    for name in CASES:
        print(f"pinned {write_pin(name)}", file=sys.stderr)


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parents[1]))
    main()
