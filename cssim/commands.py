"""What every ``cssim`` subcommand shares: its argument parser, its error line, its signals.

* :class:`CommandParser`: argparse with cssim's error style (``cssim: error: ...``, one line,
  exit status 2) and help that shows each option's type and default.
* :func:`handle_term`: SIGTERM (a service manager, ``kill``, a batch system) is handled like
  Ctrl-C: it raises :class:`Terminated`, a ``KeyboardInterrupt``, so the same clean-up runs, and
  the exit status is 143 (128 + 15) instead of 130.

Light on purpose: ``cssim --help`` and a refused argument import nothing heavy.
"""

from __future__ import annotations

import argparse
import signal
import sys

from cssim.paths import DEFAULT_SCENARIO

USAGE_ERROR = 2
INTERRUPTED = 130  # 128 + SIGINT, what a shell reports for Ctrl-C
TERMINATED = 143  # 128 + SIGTERM


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the process is, so it stops as on Ctrl-C."""


def _on_term(signum, frame) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second TERM must not cut the clean-up short
    raise Terminated()


def handle_term() -> None:
    """From now on, SIGTERM raises :class:`Terminated` in the main thread."""
    signal.signal(signal.SIGTERM, _on_term)


def stop_status(e: KeyboardInterrupt) -> int:
    """The exit status for an interruption: 143 for SIGTERM, 130 for Ctrl-C."""
    return TERMINATED if isinstance(e, Terminated) else INTERRUPTED


def error(msg: str, status: int = USAGE_ERROR) -> int:
    """Print ``cssim: error: msg`` (one line) on stderr; return ``status`` for the caller to exit with."""
    print(f"cssim: error: {msg}", file=sys.stderr)
    return status


class _Formatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Defaults shown after each option, descriptions kept as written."""


class CommandParser(argparse.ArgumentParser):
    """An argparse parser that refuses bad arguments in cssim's style: one line naming the
    problem and pointing to ``--help``, exit status 2."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> None:  # argparse prints the usage too; we print one line
        sys.exit(error(f"{message} (see {self.prog} --help)"))


def _share(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a share, e.g. 0.03") from None
    if not 0 < v < 1:
        raise argparse.ArgumentTypeError(f"{text}: must be a share in (0, 1), e.g. 0.03")
    return v


def _positive(kind):
    def parse(text: str):
        try:
            v = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r}: expected a {kind.__name__}") from None
        if v <= 0:
            raise argparse.ArgumentTypeError(f"{text}: must be > 0")
        return v

    parse.__name__ = kind.__name__
    return parse


# The parsers of the option-taking commands live here, not in their modules, so that their
# --help and their refusals load neither pandas nor the engine (tests/test_startup.py).


def calibrate_parser() -> CommandParser:
    """``cssim calibrate``'s options."""
    p = CommandParser(
        prog="cssim calibrate",
        description=(
            "Fit a scenario to a chat log (CSV or Parquet, one row per inquiry): arrival profile,\n"
            "patience, reply times, conversation length, funnel. Writes the scenario YAML, the fit\n"
            "table (OUT.fit.csv) and charts beside it; with --backtest, simulates the fitted scenario\n"
            "and compares its KPIs with the log's (OUT.backtest.csv, OUT.backtest.png).\n"
            "An existing OUT is refused unless --force (which also removes OUT's old companions)."
        ),
    )
    p.add_argument("log", metavar="LOG", help="the chat log: .csv or .parquet")
    p.add_argument("--out", metavar="FILE", default="calibrated.yaml", help="the scenario YAML to write (str)")
    p.add_argument("--force", action="store_true", help="replace OUT and its companions if they exist")
    p.add_argument("--base", metavar="SCENARIO", default=DEFAULT_SCENARIO,
                   help="scenario (name or YAML) for what a log cannot tell: staffing, costs, shifts (str)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a key of the base, as on the cssim command line (repeatable)")
    p.add_argument("--interval-min", type=_positive(float), default=15.0, metavar="MIN",
                   help="planning interval of the fitted arrival profile, minutes (float)")
    p.add_argument("--backtest", action="store_true", help="simulate the calibrated scenario and compare KPIs with the log's")
    p.add_argument("--replications", type=_positive(int), default=5, metavar="N", help="replications of the back-test (int, >= 2)")
    return p


def report_parser() -> CommandParser:
    """``cssim report``'s options."""
    p = CommandParser(prog="cssim report", description="Write FOLDER/report.html (one self-contained page) for a run, sweep or plan folder.")
    p.add_argument("folder", metavar="FOLDER", help="a run (outputs/...), sweep (multirun/...) or plan (plans/...) folder")
    p.add_argument("--max-lost-rate", type=_share, default=0.03, metavar="SHARE",
                   help="target for the recommended sweep point (float, a share in (0, 1))")
    return p


__all__ = ["calibrate_parser", "report_parser", "CommandParser", "Terminated", "handle_term", "stop_status", "error", "INTERRUPTED", "TERMINATED"]
