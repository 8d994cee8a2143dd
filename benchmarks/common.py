"""Shared helpers of the benchmark scripts: markdown tables and where to write them."""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
from pathlib import Path
from typing import Sequence


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A markdown table; floats get 3 significant decimals unless already strings."""

    def cell(v: object) -> str:
        if isinstance(v, float):
            return f"{v:,.3f}" if abs(v) < 100 else f"{v:,.0f}"
        if isinstance(v, int):
            return f"{v:,}"
        return str(v)

    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in r) + " |" for r in rows]
    return "\n".join(lines)


def machine() -> str:
    import os

    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def median(xs: Sequence[float]) -> float:
    return float(statistics.median(xs))


def emit(title: str, body: str, out: str | None) -> None:
    """Print the report and, with --out, also write it to that file."""
    text = f"### {title}\n\n{body}\n\nMachine: {machine()}. Command: `python {' '.join(sys.argv)}`\n"
    print(text)
    if out:
        Path(out).write_text(text)


def side_by_side(ap: argparse.ArgumentParser, runs: int, runs_help: str) -> tuple[argparse.Namespace, dict[str, str]]:
    """Add ``--runs``, ``--baseline`` and ``--out`` to ``ap`` and parse the command line; returns
    the arguments and the checkouts to run, ``{"this checkout": path, "baseline": path}`` (the
    baseline only when given), this checkout being the one this script is in."""
    ap.add_argument("--runs", type=int, default=runs, help=runs_help)
    ap.add_argument("--baseline", help="another cssim checkout to run side by side (interleaved)")
    ap.add_argument("--out", help="also write the markdown table to this file")
    args = ap.parse_args()
    versions = {"this checkout": str(Path(__file__).resolve().parent.parent)}
    if args.baseline:
        versions["baseline"] = str(Path(args.baseline).resolve())
    return args, versions
