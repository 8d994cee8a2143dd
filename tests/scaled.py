"""A proportionally scaled store for CI-sized runs of the full-size scenarios.

Volume, head counts and the bot's slots all scale by the same factor, so loads per agent, the
routing's saturation points and the roster's shape stay as they are; large-pool effects make
the scaled store slightly worse than the full one (fewer agents pool less), which only makes
the band checks on it stricter where loss is concerned.
"""

from __future__ import annotations

import cssim
from cssim.config import Config


def scaled(scenario: str, factor: float, overrides: list[str] = ()) -> Config:
    """``scenario`` with ``overrides``, then volume, ft/temps heads and bot slots x ``factor``."""
    base = cssim.load_scenario(scenario, list(overrides))
    s = base.staffing
    return cssim.load_scenario(
        scenario,
        list(overrides)
        + [
            f"arrivals.total={round(base.arrivals.total * factor)}",
            f"staffing.ft.count={round(s.ft.count * factor)}",
            f"staffing.temps.count={round(s.temps.count * factor)}",
            f"staffing.bot.concurrency={max(1, round(s.bot.concurrency * factor))}",
        ],
    )
