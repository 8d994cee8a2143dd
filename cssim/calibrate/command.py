"""``cssim calibrate LOG [--out FILE] [--force] [--base SCENARIO] [--set KEY=VALUE ...] [--interval-min MIN] [--backtest]``.

Reads a chat log (CSV or Parquet), checks it, fits the scenario, writes the commented YAML, the
fit table and charts next to it, prints the fit report, and with ``--backtest`` simulates the
calibrated scenario and prints its KPIs beside the log's (docs/calibration.md walks through it).

What a user can rely on: a bad log or argument is one line on stderr, exit status 2, nothing
written. ``--out`` is checked before the fit (an existing file is refused unless ``--force``, a
folder that cannot be written is refused), so no fit is lost to it. With ``--force`` the files
an earlier calibration left beside ``--out`` (charts, a back-test this run does not redo) are
removed once the new ones are written, so the folder never mixes two calibrations.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cssim.commands import calibrate_parser


def _fail(msg: str) -> int:
    print(f"cssim: error: {msg}", file=sys.stderr)
    return 2


def companions(out: Path) -> list[Path]:
    """The files a calibration writes beside ``out`` (``out``'s stem plus ``.fit.csv``,
    ``.<chart>.png``, ``.backtest.csv``), as they are on disk now."""
    stem = out.with_suffix("").name
    return sorted(p for p in out.parent.glob(f"{stem}.*") if p != out and p.suffix in (".csv", ".png"))


def main(argv: list[str]) -> int:
    """``cssim calibrate`` with the arguments after ``calibrate``; returns the exit status."""
    return run(calibrate_parser().parse_args(argv))


def run(args: argparse.Namespace) -> int:
    """Calibrate with parsed arguments (:func:`cssim.commands.calibrate_parser`)."""
    if args.replications < 2 and args.backtest:
        return _fail(f"--replications={args.replications}: a back-test needs at least 2 for a CI")
    out = Path(args.out)
    if out.suffix.lower() not in (".yaml", ".yml"):
        return _fail(f"--out={args.out}: must end in .yaml or .yml")
    if out.exists() and not args.force:
        return _fail(f"--out={args.out}: already exists; name a new file, or add --force to replace it and its charts")
    from cssim.io import check_writable, os_error_line

    try:
        check_writable(out.parent)
    except OSError as e:
        return _fail(f"--out={args.out}: cannot write there: {os_error_line(e)}")

    import pandas as pd

    from cssim.api import load_scenario
    from cssim.calibrate.fit import calibrate
    from cssim.calibrate.logs import LogError, load_log
    from cssim.calibrate.report import fit_report, name_scenario, write_outputs
    from cssim.config import start_instant

    try:
        base = load_scenario(args.base, overrides=args.set)
    except ValueError as e:
        return _fail(f"--base: {e}")
    try:
        L = load_log(Path(args.log), pd.Timestamp(start_instant(base)), base.horizon_h)
        cal = calibrate(L, base, args.interval_min)
    except LogError as e:
        return _fail(str(e))
    except ValueError as e:  # a fitted value the schema refuses: say which
        return _fail(f"{args.log}: {e}")
    name_scenario(cal.config, out, args.log, L.n, L.n_days, L.origin)
    with_set = f" with {' '.join(args.set)}" if args.set else ""
    print(f"{args.log}: {L.n:,} inquiries over {L.n_days} day(s) from {L.origin.isoformat()}; base scenario {args.base!r}{with_set}")
    print(fit_report(cal))
    old = companions(out)
    try:
        written = write_outputs(cal, out, args.log, args.base + with_set, args.interval_min)
        if args.backtest:
            from cssim.calibrate.backtest import chart, format_backtest, run_backtest
            from cssim.io import write_csv

            bt = run_backtest(L, cal.config, args.replications)
            print(format_backtest(bt, L.n_days))
            stem = out.with_suffix("")
            written.append(chart(bt, stem.with_name(stem.name + ".backtest.png")))
            write_csv(stem.with_name(stem.name + ".backtest.csv"), bt.table)
            written.append(stem.with_name(stem.name + ".backtest.csv"))
        for p in old:  # what an earlier calibration left that this one did not rewrite
            if p not in written:
                p.unlink(missing_ok=True)
    except OSError as e:
        return _fail(os_error_line(e))
    print(f"scenario: {written[0]}")
    print(f"fit table: {written[1]}")
    for p in written[2:]:
        print(f"chart: {p}" if p.suffix == ".png" else f"table: {p}")
    return 0
