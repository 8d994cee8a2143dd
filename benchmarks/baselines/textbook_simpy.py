"""Textbook SimPy model of the M/M/n+M (Erlang-A) queue, a throughput baseline.

Model: Poisson arrivals at ``arrival_rate`` per minute; ``servers`` identical agents
(``simpy.Resource(env, capacity=servers)``), FCFS; exponential service times with mean
``service_mean`` minutes; each customer has an exponential patience with mean
``patience_mean`` minutes and abandons if not taken into service before it runs out.
All times are in minutes (simulation clock = minutes).

Written the way the SimPy documentation writes reneging (cf. its "Bank renege" example):
a source process generates ``customers`` exponential inter-arrivals and starts one process
per customer, which does ``result = yield req | env.timeout(patience)``; if the request was
granted it holds the server for its service time, otherwise it leaves the queue (the
``with`` block cancels the pending request) and counts as abandoned. Arrivals stop after
``customers`` of them and the run goes to completion, so every arrival is either served or
abandoned. One ``random.Random(seed)`` stream is used for all samples.

    python -m benchmarks.baselines.textbook_simpy     # small demo case
"""

from __future__ import annotations

import random
import time


def run(
    arrival_rate: float,
    service_mean: float,
    patience_mean: float,
    servers: int,
    customers: int,
    seed: int,
) -> dict:
    """Simulate ``customers`` arrivals of an M/M/n+M queue in SimPy.

    arrival_rate: arrivals per minute; service_mean, patience_mean: minutes.

    Returns ``{"customers", "abandoned", "p_abandon", "waiting_at_end", "wall_s",
    "wall_total_s"}``: ``wall_s`` is the ``time.perf_counter`` time of ``env.run()`` alone,
    ``wall_total_s`` also includes building the model. ``waiting_at_end`` is always 0 here
    (the run goes to completion); it is kept for parity with the Ciw baseline.
    """
    import simpy

    t_total = time.perf_counter()
    rng = random.Random(seed)
    env = simpy.Environment()
    agents = simpy.Resource(env, capacity=servers)
    service_rate = 1.0 / service_mean
    abandon_rate = 1.0 / patience_mean
    counts = {"arrived": 0, "abandoned": 0}

    def customer(env: simpy.Environment):
        patience = rng.expovariate(abandon_rate)
        with agents.request() as req:
            result = yield req | env.timeout(patience)
            if req in result:
                yield env.timeout(rng.expovariate(service_rate))
            else:
                counts["abandoned"] += 1

    def source(env: simpy.Environment):
        for _ in range(customers):
            yield env.timeout(rng.expovariate(arrival_rate))
            counts["arrived"] += 1
            env.process(customer(env))

    env.process(source(env))
    t_run = time.perf_counter()
    env.run()
    wall_s = time.perf_counter() - t_run
    wall_total_s = time.perf_counter() - t_total

    n = counts["arrived"]
    return {
        "customers": n,
        "abandoned": counts["abandoned"],
        "p_abandon": counts["abandoned"] / n if n else float("nan"),
        "waiting_at_end": 0,
        "wall_s": wall_s,
        "wall_total_s": wall_total_s,
    }


if __name__ == "__main__":
    res = run(arrival_rate=48.0, service_mean=1.0, patience_mean=2.0, servers=50, customers=20_000, seed=1)
    print(res)
    print(f"{res['customers'] / res['wall_s']:,.0f} customers/s")
