"""Reference M/M/n+M (Erlang-A) implementations in third-party simulators (SimPy, Ciw),
used by the throughput benchmark as side-by-side baselines for the ``cssim`` engine."""
