"""``cssim calibrate LOG [--out FILE] [--base SCENARIO] [--set KEY=VALUE ...] [--interval-min MIN] [--backtest]``.

Reads a chat log (CSV or Parquet), checks it, fits the scenario, writes the commented YAML, the
fit table and charts next to it, prints the fit report, and with ``--backtest`` simulates the
calibrated scenario and prints its KPIs beside the log's. A bad log or bad argument: one line
on stderr, exit status 2, nothing written.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from cssim.paths import DEFAULT_SCENARIO


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2 (argparse prints usage too)
        print(f"cssim calibrate: error: {message} (usage: cssim calibrate LOG [--out FILE] [--base SCENARIO] [--set KEY=VALUE] [--interval-min MIN] [--backtest])", file=sys.stderr)
        sys.exit(2)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="cssim calibrate", description="Fit a scenario to a chat log (CSV or Parquet).")
    p.add_argument("log", help="the chat log: .csv or .parquet, one row per inquiry")
    p.add_argument("--out", default="calibrated.yaml", help="the scenario YAML to write (charts and the fit table go beside it)")
    p.add_argument("--base", default=DEFAULT_SCENARIO, help="scenario (name or YAML) for what a log cannot tell: staffing, costs, shifts")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a key of the base, as on the cssim command line (repeatable): the log's own staffing or routing")
    p.add_argument("--interval-min", type=float, default=15.0, help="planning interval of the fitted arrival profile (min)")
    p.add_argument("--backtest", action="store_true", help="simulate the calibrated scenario and compare KPIs with the log's")
    p.add_argument("--replications", type=int, default=5, help="replications of the back-test (default 5)")
    return p


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)

    def fail(msg: str) -> int:
        print(f"cssim calibrate: error: {msg}", file=sys.stderr)
        return 2

    if args.interval_min <= 0:
        return fail(f"--interval-min={args.interval_min:g}: must be > 0")
    if args.replications < 2 and args.backtest:
        return fail(f"--replications={args.replications}: a back-test needs at least 2 for a CI")
    out = Path(args.out)
    if out.suffix.lower() not in (".yaml", ".yml"):
        return fail(f"--out={args.out}: must end in .yaml or .yml")
    from cssim.api import load_scenario
    from cssim.calibrate.fit import calibrate
    from cssim.calibrate.logs import LogError, load_log
    from cssim.calibrate.report import fit_report, name_scenario, write_outputs
    from cssim.config import start_instant

    try:
        base = load_scenario(args.base, overrides=args.set)
    except ValueError as e:
        return fail(f"--base: {e}")
    try:
        L = load_log(Path(args.log), pd.Timestamp(start_instant(base)), base.horizon_h)
        cal = calibrate(L, base, args.interval_min)
    except LogError as e:
        return fail(str(e))
    except ValueError as e:  # a fitted value the schema refuses: say which
        return fail(f"{args.log}: {e}")
    name_scenario(cal.config, out, args.log, L.n, L.n_days, L.origin)
    with_set = f" with {' '.join(args.set)}" if args.set else ""
    print(f"{args.log}: {L.n:,} inquiries over {L.n_days} day(s) from {L.origin.isoformat()}; base scenario {args.base!r}{with_set}")
    print(fit_report(cal))
    written = write_outputs(cal, out, args.log, args.base + with_set, args.interval_min)
    print(f"scenario: {written[0]}")
    print(f"fit table: {written[1]}")
    for p in written[2:]:
        print(f"chart: {p}")
    if args.backtest:
        from cssim.calibrate.backtest import chart, format_backtest, run_backtest

        bt = run_backtest(L, cal.config, args.replications)
        print(format_backtest(bt, L.n_days))
        stem = out.with_suffix("")
        print(f"chart: {chart(bt, stem.with_name(stem.name + '.backtest.png'))}")
        from cssim.io import write_csv

        write_csv(stem.with_name(stem.name + ".backtest.csv"), bt.table)
    return 0
