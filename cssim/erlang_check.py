"""The degenerate case against exact queueing theory: simulated vs exact Erlang-A and Erlang-C.

The ``erlang_a`` scenario is M/M/n+M (docs/model.md#degenerate-case). At a point (n agents,
arrival rate) this runs R independent replications of a long horizon after a warm-up and
compares the replication means of the lost rate, the mean first response (= E[W | served] +
mean reply time) and the agents' utilization with :func:`cssim.analytic.erlang_a`. The
interval is ``mean +- t(level, R-1) * sd / sqrt(R)``: the replication means are i.i.d., so it
covers the stationary value with probability ``level`` up to the warm-up bias (negligible next
to it here).

    python -m cssim.erlang_check            # prints the comparison table (about a minute)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from cssim.analytic import erlang_a, erlang_c
from cssim.api import load_scenario, simulate

SERVICE_S, PATIENCE_S = 60.0, 120.0  # the erlang_a scenario's means

#: Differences below this are not resolved by runs of these lengths: in heavy overload the
#: exact utilization is 1 - 6e-8, i.e. an agent idle about once in a simulated day, and every
#: replication shows 1.0 with no spread, so the t-interval collapses to zero width.
RESOLUTION = 1e-6


@dataclass(frozen=True)
class Comparison:
    point: str
    metric: str
    simulated: float
    halfwidth: float
    exact: float
    replications: int

    @property
    def within(self) -> bool:
        return abs(self.simulated - self.exact) <= max(self.halfwidth, RESOLUTION)


def _halfwidth(x: np.ndarray, level: float) -> float:
    return float(stats.t.ppf(0.5 + level / 2, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size))


def compare(
    n: int,
    rate_per_min: float,
    horizon_h: float,
    warmup_h: float,
    reps: int,
    infinite_patience: bool = False,
    level: float = 0.998,
) -> list[Comparison]:
    """Simulated vs exact at one point of the erlang_a scenario (Erlang-C with
    ``infinite_patience``)."""
    overrides = [f"staffing.ft.count={n}", f"arrivals.rate_per_min={rate_per_min}", f"horizon_h={horizon_h}", f"warmup_h={warmup_h}"]
    if infinite_patience:
        overrides.append("customers.patience={dist: constant, mean: inf}")
    cfg = load_scenario("erlang_a", overrides)
    lam, mu = rate_per_min / 60.0, 1.0 / SERVICE_S
    exact = erlang_c(lam, mu, n) if infinite_patience else erlang_a(lam, mu, 1.0 / PATIENCE_S, n)
    expected = {
        "lost_rate": exact.p_abandon,
        "avg_first_response_s": exact.mean_wait_served + SERVICE_S,
        "utilization_ft": exact.utilization,
    }
    runs = [simulate(cfg, replication=r).metrics for r in range(reps)]
    point = f"{'M/M/n' if infinite_patience else 'M/M/n+M'} n={n}, {rate_per_min:g}/min (rho={lam / (n * mu):.2f})"
    out = []
    for metric, value in expected.items():
        x = np.asarray([m[metric] for m in runs], dtype=float)
        hw = 0.0 if np.all(x == x[0]) else _halfwidth(x, level)
        out.append(Comparison(point, metric, float(x.mean()), hw, value, reps))
    return out


#: The standard points: small, large (QED regime), overloaded, and Erlang-C.
POINTS = [
    dict(n=10, rate_per_min=9.5, horizon_h=25.0, warmup_h=1.0, reps=12),
    dict(n=500, rate_per_min=490.0, horizon_h=1.5, warmup_h=0.5, reps=10),
    dict(n=1000, rate_per_min=950.0, horizon_h=1.5, warmup_h=0.5, reps=10),
    dict(n=10, rate_per_min=14.0, horizon_h=25.0, warmup_h=1.0, reps=12),
    dict(n=10, rate_per_min=8.0, horizon_h=25.0, warmup_h=1.0, reps=12, infinite_patience=True),
]


def table(rows: list[Comparison]) -> str:
    lines = [
        "| point | metric | simulated | 99.8% CI half-width | exact | reps | within CI |",
        "|---|---|---|---|---|---|---|",
    ]
    for c in rows:
        lines.append(
            f"| {c.point} | {c.metric} | {c.simulated:.5f} | {c.halfwidth:.5f} | {c.exact:.5f} | {c.replications} | {'yes' if c.within else 'NO'} |"
        )
    return "\n".join(lines)


def main() -> None:
    rows = [c for p in POINTS for c in compare(**p)]
    print(table(rows))


if __name__ == "__main__":
    main()
