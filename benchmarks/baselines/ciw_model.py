"""Ciw model of the M/M/n+M (Erlang-A) queue, a throughput baseline.

Model: Poisson arrivals at ``arrival_rate`` per minute; ``servers`` identical agents, FCFS;
exponential service times with mean ``service_mean`` minutes; each customer has an
exponential patience with mean ``patience_mean`` minutes and reneges if not taken into
service before it runs out. All times are in minutes (simulation clock = minutes).

Built with Ciw 3.x's own API, a one-node network::

    ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(rate=arrival_rate)],
        service_distributions=[ciw.dists.Exponential(rate=1 / service_mean)],
        number_of_servers=[servers],
        reneging_time_distributions=[ciw.dists.Exponential(rate=1 / patience_mean)],
    )

(``ciw.dists.Exponential`` takes a *rate*, not a mean.) Seeded with ``ciw.seed(seed)`` and
run with ``Simulation.simulate_until_max_time(customers / arrival_rate)``, i.e. for the time in
which ``customers`` arrivals are expected, so the number of arrivals is random (reported as
``customers``). Reneged customers are the data records with ``record_type == "renege"``
(``Q.get_all_records(only=["renege"])``).

Unlike the SimPy baseline, which stops arrivals and runs to completion, this run is cut off at
a fixed time, so customers still waiting in the queue at that time have no outcome yet. They
are reported as ``waiting_at_end`` and left out of the denominator of ``p_abandon``
(= abandoned / (customers - waiting_at_end)); customers already in service at the end are
counted as not abandoned, which they are.

    python -m benchmarks.baselines.ciw_model     # small demo case
"""

from __future__ import annotations

import time


def run(
    arrival_rate: float,
    service_mean: float,
    patience_mean: float,
    servers: int,
    customers: int,
    seed: int,
) -> dict:
    """Simulate an M/M/n+M queue in Ciw for ``customers / arrival_rate`` minutes.

    arrival_rate: arrivals per minute; service_mean, patience_mean: minutes.

    Returns ``{"customers", "abandoned", "p_abandon", "waiting_at_end", "wall_s",
    "wall_total_s"}``: ``customers`` is the number of arrivals actually generated,
    ``wall_s`` the ``time.perf_counter`` time of ``simulate_until_max_time`` alone,
    ``wall_total_s`` also includes building the network and counting the records.
    """
    try:
        import ciw
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "the Ciw baseline needs the 'ciw' package (Ciw 3.x): pip install ciw"
        ) from exc

    t_total = time.perf_counter()
    ciw.seed(seed)
    network = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(rate=arrival_rate)],
        service_distributions=[ciw.dists.Exponential(rate=1.0 / service_mean)],
        number_of_servers=[servers],
        reneging_time_distributions=[ciw.dists.Exponential(rate=1.0 / patience_mean)],
    )
    Q = ciw.Simulation(network)
    t_run = time.perf_counter()
    Q.simulate_until_max_time(customers / arrival_rate)
    wall_s = time.perf_counter() - t_run

    arrived = Q.nodes[0].number_of_individuals  # the ArrivalNode counts every arrival
    abandoned = len(Q.get_all_records(only=["renege"]))
    node = Q.nodes[1]
    waiting_at_end = sum(1 for ind in node.all_individuals if not ind.server)
    wall_total_s = time.perf_counter() - t_total

    decided = arrived - waiting_at_end
    return {
        "customers": arrived,
        "abandoned": abandoned,
        "p_abandon": abandoned / decided if decided else float("nan"),
        "waiting_at_end": waiting_at_end,
        "wall_s": wall_s,
        "wall_total_s": wall_total_s,
    }


if __name__ == "__main__":
    res = run(arrival_rate=48.0, service_mean=1.0, patience_mean=2.0, servers=50, customers=20_000, seed=1)
    print(res)
    print(f"{res['customers'] / res['wall_s']:,.0f} customers/s")
