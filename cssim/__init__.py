"""cssim: discrete-event simulation of customer-service chat staffing during sales peaks.

>>> import cssim
>>> cfg = cssim.load_scenario("semir_double11_2016", overrides=["staffing.temps.count=500"])
>>> res = cssim.simulate(cfg, seed=1)          # doctest: +SKIP
>>> res.metrics["lost_rate"], res.intervals.head()  # doctest: +SKIP
>>> best = cssim.plan(cfg)                     # doctest: +SKIP
>>> best.roster, best.summary["plan"]["cost_total"]  # doctest: +SKIP

The names below are loaded on first use (PEP 562), so ``import cssim`` and the ``cssim``
command's ``--help`` and argument checks do not pay for pandas, scipy and matplotlib.
"""

from __future__ import annotations

import importlib

# Public name -> the module that defines it (imported on first access).
_LAZY = {
    "Config": "cssim.config",
    "METRICS": "cssim.metrics",
    "Plan": "cssim.plan.planner",
    "Result": "cssim.result",
    "load_scenario": "cssim.api",
    "simulate": "cssim.api",
    "simulate_many": "cssim.backends",
}

__all__ = ["Config", "METRICS", "Plan", "Result", "load_scenario", "plan", "simulate", "simulate_many"]
__version__ = "0.1.0"


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
    elif not name.startswith("__"):
        # A submodule (cssim.plan, cssim.sweep, ...): ``import cssim`` used to import most of
        # them as a side effect, so ``cssim.<module>`` keeps working without its own import.
        try:
            value = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as e:
            if e.name != f"{__name__}.{name}":
                raise
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
