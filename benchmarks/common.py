"""Shared helpers of the benchmark scripts: markdown tables and where to write them."""

from __future__ import annotations

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
