"""Calibration from a shop's chat log: ``cssim calibrate LOG`` (see :mod:`cssim.calibrate.command`).

    >>> import cssim
    >>> from cssim.calibrate import calibrate_log
    >>> log = cssim.simulate(cssim.load_scenario("small_shop_618"), seed=1, log=True).log  # or a CSV's path
    >>> cal = calibrate_log(log, base="small_shop_618")
    >>> list(cal.table().columns)
    ['parameter', 'estimate', 'ci95', 'n', 'unit', 'method']

Modules, one concern each: :mod:`~cssim.calibrate.logs` (reading and checking a log, KPIs
from it), :mod:`~cssim.calibrate.estimators` (censored maximum likelihood, Kaplan-Meier,
intervals), :mod:`~cssim.calibrate.fit` (which rows identify which parameter),
:mod:`~cssim.calibrate.report` (the commented scenario YAML, the fit table, charts),
:mod:`~cssim.calibrate.backtest` (the calibrated scenario against the log's KPIs).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cssim.calibrate.fit import Calibration, calibrate
from cssim.calibrate.logs import LogData, LogError, from_frame, load_log
from cssim.config import Config, start_instant
from cssim.paths import DEFAULT_SCENARIO


def _base(base: str | Config) -> Config:
    if isinstance(base, Config):
        return base
    from cssim.api import load_scenario

    return load_scenario(base)


def calibrate_log(log: str | Path | pd.DataFrame, base: str | Config = DEFAULT_SCENARIO, interval_min: float = 15.0) -> Calibration:
    """Read (a path) or take (a DataFrame) a chat log and calibrate ``base`` to it."""
    cfg = _base(base)
    start = pd.Timestamp(start_instant(cfg))
    L = from_frame(log, start, cfg.horizon_h) if isinstance(log, pd.DataFrame) else load_log(Path(log), start, cfg.horizon_h)
    return calibrate(L, cfg, interval_min)


__all__ = ["Calibration", "LogData", "LogError", "calibrate", "calibrate_log", "from_frame", "load_log"]
