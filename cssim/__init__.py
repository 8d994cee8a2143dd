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
#: cssim's version, in this one place (pyproject.toml reads it; CHANGELOG.md says what changed).
__version__ = "0.3.0"


def _lazy(package: str, name: str, homes: dict[str, str]):
    """Attribute ``name`` of ``package``, imported now: from the module ``homes`` names for it,
    or else the submodule ``package.name`` (``import cssim`` used to import most modules as a
    side effect, so ``cssim.sweep`` and the like keep working without their own import)."""
    if name in homes:
        return getattr(importlib.import_module(homes[name]), name)
    if not name.startswith("__"):
        try:
            return importlib.import_module(f"{package}.{name}")
        except ModuleNotFoundError as e:
            if e.name != f"{package}.{name}":
                raise
    raise AttributeError(f"module {package!r} has no attribute {name!r}")


def __getattr__(name: str):
    value = _lazy(__name__, name, _LAZY)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
