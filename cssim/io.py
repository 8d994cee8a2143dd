"""Atomic result files: written to a temporary file in the same folder, then renamed, so a
reader (or a crash) never sees half a file."""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd


def _clean(x: Any) -> Any:
    """JSON has no NaN: undefined numbers become null."""
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    return x


def write_atomic(path: Path, write) -> None:
    """Call ``write(tmp_path)`` then move the file into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: Path, data: Any) -> None:
    write_atomic(path, lambda p: p.write_text(json.dumps(_clean(data), indent=2, allow_nan=False) + "\n"))


def write_csv(path: Path, df: pd.DataFrame, index: bool = False) -> None:
    write_atomic(path, lambda p: df.to_csv(p, index=index))


def write_png(path: Path, fig) -> None:
    write_atomic(path, lambda p: fig.savefig(p, format="png", dpi=110, bbox_inches="tight"))
