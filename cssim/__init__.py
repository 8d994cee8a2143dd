"""cssim: discrete-event simulation of customer-service chat staffing during sales peaks.

>>> import cssim
>>> cfg = cssim.load_scenario("semir_double11_2016", overrides=["staffing.temps.count=500"])
>>> res = cssim.simulate(cfg, seed=1)          # doctest: +SKIP
>>> res.metrics["lost_rate"], res.intervals.head()  # doctest: +SKIP
>>> best = cssim.plan(cfg)                     # doctest: +SKIP
>>> best.roster, best.summary["plan"]["cost_total"]  # doctest: +SKIP
"""

from cssim.api import load_scenario, simulate
from cssim.backends import simulate_many
from cssim.config import Config
from cssim.metrics import METRICS
from cssim import plan
from cssim.plan import Plan
from cssim.result import Result

__all__ = ["Config", "METRICS", "Plan", "Result", "load_scenario", "plan", "simulate", "simulate_many"]
__version__ = "0.1.0"
