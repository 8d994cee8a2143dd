"""The calibration walkthrough of docs/calibration.md, run for real.

Simulates five days of a small shop with known, non-default parameters and a chat log, calibrates
a scenario from that log with a back-test, and writes what the commands printed and how the
estimates compare with the truth to ``docs/generated/calibration_walkthrough.md`` (the page
includes it). ``tests/test_docs.py`` runs this script and fails when the committed file differs
from what the code prints now, so the page's numbers cannot go stale: after a change that moves
them, run ``python docs/scripts/calibration_walkthrough.py --write`` and commit the file.

    python docs/scripts/calibration_walkthrough.py           # print the page fragment
    python docs/scripts/calibration_walkthrough.py --write   # and write it
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE.parent / "generated" / "calibration_walkthrough.md"

#: The world the log is simulated from: the shipped small shop with these keys changed.
TRUTH = [
    "customers.patience.mean=90", "customers.patience.cv=1.2", "staffing.ft.reply_s.mean=15",
    "conversation.turns=6", "customers.presale_share=0.6", "staffing.bot.concurrency=3", "routing.takeover_s=inf",
]
SIMULATE = ["scenario=small_shop_618", "log=true", "replications=5", *TRUTH, "hydra.run.dir=shop_log"]
CALIBRATE = ["calibrate", "shop_log/chats.parquet", "--base", "small_shop_618", "--set", "staffing.bot.concurrency=3",
             "--set", "routing.takeover_s=inf", "--out", "shop_calibrated.yaml", "--backtest"]


def _cssim(args: list[str], cwd: Path) -> str:
    p = subprocess.run([sys.executable, "-m", "cssim.cli", *args], cwd=cwd, capture_output=True, text=True,
                       env={**os.environ, "MPLBACKEND": "Agg", "HYDRA_FULL_ERROR": "0"}, timeout=900)
    if p.returncode != 0:
        raise SystemExit(f"cssim {' '.join(args)} failed ({p.returncode}):\n{p.stderr}")
    return p.stdout


def _true_value(cfg, key: str):
    """The value the log was simulated with, for a fitted key (None when not a scenario value)."""
    key = key.replace(" (effective)", "")
    parts = key.split(".")
    if len(parts) == 3 and parts[0] == "staffing" and parts[2] == "speed":  # fitted relative to full-time
        ft, pool = cfg.staffing.ft, getattr(cfg.staffing, parts[1])
        return (ft.reply_s.mean / ft.speed) / (pool.reply_s.mean / pool.speed)
    if len(parts) == 4 and parts[0] == "staffing" and parts[2] == "reply_s" and parts[3] in ("mean", "cv"):
        pool = getattr(cfg.staffing, parts[1])
        return pool.reply_s.mean / pool.speed if parts[3] == "mean" else pool.reply_s.cv
    obj = cfg
    for p in parts:
        if not hasattr(obj, p):
            return None
        obj = getattr(obj, p)
    return obj if isinstance(obj, (int, float)) and not isinstance(obj, bool) else None


def _ci(text: str) -> tuple[float, float] | None:
    try:
        lo, hi = (float(x.replace(",", "")) for x in str(text).split(" - "))
    except ValueError:
        return None
    return lo, hi


def page() -> str:
    import pandas as pd

    import cssim

    with tempfile.TemporaryDirectory(prefix="cssim-walkthrough-") as tmp:
        cwd = Path(tmp)
        _cssim(SIMULATE, cwd)
        printed = _cssim(CALIBRATE, cwd)
        fit = pd.read_csv(cwd / "shop_calibrated.fit.csv", keep_default_na=False)
        backtest = pd.read_csv(cwd / "shop_calibrated.backtest.csv")
    cfg = cssim.load_scenario("small_shop_618", overrides=TRUTH)
    rows, inside, total = [], 0, 0
    for r in fit.itertuples():
        truth, ci = _true_value(cfg, r.parameter), _ci(r.ci95)
        if truth is None or ci is None or (isinstance(truth, float) and math.isinf(truth)):
            continue
        hit = ci[0] <= truth <= ci[1]
        inside, total = inside + hit, total + 1
        rows.append(f"| `{r.parameter}` | {truth:g} | {r.estimate} | {r.ci95} | {'yes' if hit else '**no**'} |")
    ok = [k for k, c in zip(backtest.kpi, backtest.consistent) if c]
    off = [k for k, c in zip(backtest.kpi, backtest.consistent) if not c]
    sim = "cssim " + " ".join(SIMULATE)
    cal = "cssim " + " ".join(CALIBRATE)
    return "\n".join([
        "<!-- Written by docs/scripts/calibration_walkthrough.py; do not edit by hand. -->",
        "```bash", sim, cal, "```", "",
        "What `cssim calibrate` printed:", "", "```text", printed.rstrip(), "```", "",
        f"**{inside} of {total}** fitted values whose true value is a scenario number have it inside their 95% interval "
        "(about one miss in twenty is what 95% intervals promise):", "",
        "| parameter | true | estimate | 95% CI | inside |", "|---|---|---|---|---|", *rows, "",
        "The back-test is consistent with the log (the two 95% intervals overlap) on "
        + (", ".join(f"`{k}`" for k in ok) or "no KPI")
        + ("; it is **not** on " + ", ".join(f"`{k}`" for k in off) + "." if off else "."),
        "",
    ])


def main() -> None:
    text = page()
    if "--write" in sys.argv[1:]:
        OUT.parent.mkdir(parents=True, exist_ok=True)
        OUT.write_text(text)
        print(f"wrote {OUT}", file=sys.stderr)
    else:
        print(text)


if __name__ == "__main__":
    main()
