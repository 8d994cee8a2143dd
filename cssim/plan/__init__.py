"""Planning: the cheapest roster that meets a service target in every interval (``cssim plan``).

``cssim.plan(cfg, workers=None, quiet=False)`` runs :func:`cssim.plan.planner.plan` and returns
a :class:`Plan` (this package is callable, so ``cssim.plan(...)`` and ``cssim.plan.cover`` both
work). Four steps, one module each (docs/planning.md):

* :mod:`cssim.plan.requirements` -- a starting requirement per interval from the exact Erlang-A;
* :mod:`cssim.plan.correct` -- simulation-based correction with common random numbers;
* :mod:`cssim.plan.cover` -- the cheapest shift templates covering the requirement (MILP);
* :mod:`cssim.plan.verify` -- verification on fresh seeds, raising what misses.

>>> import cssim
>>> cfg = cssim.load_scenario("small_shop_618", ["plan.pools=[ft]"])
>>> result = cssim.plan(cfg, quiet=True)                  # doctest: +SKIP
>>> result.roster, result.summary["plan"]["cost_total"]   # doctest: +SKIP

The planner (scipy, pandas) is imported on first use, so ``cssim plan`` can refuse a bad
argument without loading it.
"""

import sys
import types

__all__ = ["Plan", "plan"]


class _CallablePackage(types.ModuleType):
    """``cssim.plan(...)`` is :func:`cssim.plan.planner.plan`, and the package's modules stay
    reachable as attributes (a plain function of the same name would hide them)."""

    def __call__(self, *args, **kwargs):
        from cssim.plan.planner import plan

        return plan(*args, **kwargs)

    def __getattr__(self, name: str):
        # Plan and plan from the planner, any other name a submodule (cssim.plan.cover).
        from cssim import _lazy

        value = _lazy(__name__, name, {"Plan": f"{__name__}.planner", "plan": f"{__name__}.planner"})
        setattr(self, name, value)
        return value


sys.modules[__name__].__class__ = _CallablePackage
