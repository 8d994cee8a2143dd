"""Regression: every shipped scenario's full metrics dict, at a fixed seed and CI scale, equals
its pinned file (tests/regression/pins/). Counts must match exactly; floats to 1e-9 relative
(summation order may differ across numpy builds). A failure lists every metric that moved, from
what to what. Regenerate on purpose only: ``python tests/regression/pins.py`` (see README).
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pins import CASES, PIN_DIR, compute  # noqa: E402


def _same(a, b) -> bool:
    if a is None or b is None:  # NaN is stored as null
        return (a is None or (isinstance(a, float) and math.isnan(a))) and (b is None or (isinstance(b, float) and math.isnan(b)))
    if isinstance(a, int) and isinstance(b, int):
        return a == b
    return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)


@pytest.mark.parametrize("name", sorted(CASES))
def test_scenario_matches_pin(name):
    pin = json.loads((PIN_DIR / f"{name}.json").read_text())
    now = compute(name)
    moved = [
        f"  {k}: pinned {pin['metrics'].get(k)!r} -> now {now.get(k)!r}"
        for k in sorted(set(pin["metrics"]) | set(now))
        if not _same(pin["metrics"].get(k), now.get(k))
    ]
    if moved:
        note = ""
        if pin["made_with"]["numpy"] != np.__version__:
            note = (
                f"\nNote: pins were made with numpy {pin['made_with']['numpy']}, this is numpy {np.__version__}; "
                "a different numpy can change random streams or summation order."
            )
        pytest.fail(f"{name}: {len(moved)} metric(s) moved from the pinned output:\n" + "\n".join(moved) + note)
