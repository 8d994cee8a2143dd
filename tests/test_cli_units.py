"""The output layer and the argument checks in-process (issue 9): unique folders, atomic files
with the usual permissions, errors inside a user's scenario file, unknown keys however spelt,
runs too big for the machine, enough replications for a CI, and the intraday chart."""

from __future__ import annotations

import errno
import math
import os
import re
import stat
import threading
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import cssim
from cssim import cli, io
from cssim.config import Arrivals, Config, validate
from cssim.metrics import DIAGNOSTICS
from cssim.runner import kpi_table, run_replications, write_run
from cssim.schema import scenario_names

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


# --- 2. a user's own scenario file --------------------------------------------------------


def user_file(tmp_path: Path, edit) -> Path:
    path = tmp_path / "my shop.yaml"
    path.write_text(edit((SCENARIOS / "small_shop_618.yaml").read_text()))
    return path


def line_of(path: Path, text: str) -> int:
    return 1 + next(i for i, ln in enumerate(path.read_text().splitlines()) if text in ln)


@pytest.mark.parametrize(
    "edit,needle,key,problem",
    [
        (lambda t: t.replace("  ft:\n    count: 3", "  ft:\n    count: 3\n   speed: [1"), "speed: [1", None, "YAML"),
        (lambda t: t.replace("    count: 3 ", "    cuont: 3 "), "cuont: 3", "staffing.ft.cuont", "unknown key"),
        (lambda t: t.replace("    count: 3 ", "    count: three "), "count: three", "staffing.ft.count", "Integer"),
        (lambda t: t.replace("    count: 3 ", "    count: -3 "), "count: -3", "staffing.ft.count=-3", "head count"),
    ],
    ids=["yaml-syntax", "misspelt-key", "wrong-type", "bad-value"],
)
def test_error_inside_scenario_file_names_file_line_key(tmp_path, edit, needle, key, problem):
    path = user_file(tmp_path, edit)
    with pytest.raises(ValueError) as e:
        cssim.load_scenario(str(path))
    msg = str(e.value)
    assert "\n" not in msg and str(path) in msg and problem in msg, msg
    if key:
        assert key in msg and f"line {line_of(path, needle)}" in msg, msg
    else:  # a syntax error: the line the parser stopped at, near the bad one
        assert "line " in msg, msg


def test_bad_value_overridden_on_the_command_line_is_not_blamed_on_the_file(tmp_path):
    path = user_file(tmp_path, lambda t: t.replace("    count: 3 ", "    count: -3 "))
    assert cssim.load_scenario(str(path), ["staffing.ft.count=4"]).staffing.ft.count == 4
    with pytest.raises(ValueError, match=r"^staffing.ft.count=-7: must be"):
        cssim.load_scenario(str(path), ["staffing.ft.count=-7"])


def test_file_without_name_is_named_after_the_file(tmp_path):
    path = user_file(tmp_path, lambda t: t.replace("name: small_shop_618\n", ""))
    assert cssim.load_scenario(str(path)).name == "my shop"


# --- 8. unknown keys, however spelt --------------------------------------------------------

UNKNOWN = ["+foo=1", "++foo=1", "~foo", "+staffing.temps.cuont=5", "++staffing.temps.cuont=5", "~staffing.temps.cuont"]


@pytest.mark.parametrize("override", UNKNOWN)
def test_unknown_keys_refused_however_spelt(override):
    with pytest.raises(ValueError) as e:
        cssim.load_scenario("small_shop_618", [override])
    assert str(e.value).startswith(override + ": ") and "unknown key" in str(e.value), str(e.value)
    assert cli.check_arguments([override]).startswith(override + ": ")


# --- 5. a run too big for the machine -------------------------------------------------------


def test_memory_estimate_matches_the_measured_semir_day():
    """Peak RSS of a Semir day (~300k inquiries) was measured at ~540 MB: the estimate is
    within 25% of that."""
    from cssim.config import estimated_memory_bytes

    assert 0.75 * 540e6 <= estimated_memory_bytes(cssim.load_scenario("semir_double11_2016")) <= 1.25 * 540e6


@pytest.mark.parametrize(
    "arrivals,key",
    [(Arrivals(total=1e12), "arrivals.total=1e+12"), (Arrivals(rate_per_min=1e9), "arrivals.rate_per_min=1e+09"),
     (Arrivals(total=1e9, forecast_cv=5.0), "arrivals.total=1e+09")],
)
def test_too_big_for_memory_refused_by_validation(arrivals, key):
    cfg = Config(arrivals=arrivals)
    with pytest.raises(ValueError, match=rf"^{re.escape(key)}: .*memory.*GB"):
        validate(cfg)
    with pytest.raises(ValueError, match="memory"):
        cssim.simulate(cfg)


# --- 10. small things -----------------------------------------------------------------------


def test_dot_inf_accepted_like_inf():
    for spelt in (".inf", "inf", ".Inf", "+.inf"):
        cfg = cssim.load_scenario("erlang_a", ["customers.patience.dist=constant", f"customers.patience.mean={spelt}"])
        assert cfg.customers.patience.mean == math.inf, spelt
    cfg = cssim.load_scenario("erlang_a", ["customers.patience={dist: constant, mean: .inf}"])
    assert cfg.customers.patience.mean == math.inf
