"""The simulation model, one room per concept (see each module's docstring for its semantics):

* :mod:`~cssim.kernel.customers` — what chance decides: customers up front, each chat's per-turn
  draws by blocks when first needed;
* :mod:`~cssim.kernel.chat` — a chat while it is open (the state its turns need);
* :mod:`~cssim.kernel.pools` — agents, slots, the backlog-aware routing pick;
* :mod:`~cssim.kernel.conversation` — turns, a human's typing queue, a bot chat computed whole;
* :mod:`~cssim.kernel.funnel` — orders, payment, follow-ups, nudges;
* :mod:`~cssim.kernel.shifts` — who is on when; busy and overtime seconds;
* :mod:`~cssim.kernel.records` — what a replication leaves for the metrics;
* :mod:`~cssim.kernel.simulation` — the clock and the wiring.
"""

from cssim.kernel.customers import Customers, draw_customers
from cssim.kernel.records import Records
from cssim.kernel.simulation import Simulation

__all__ = ["Customers", "Records", "Simulation", "draw_customers"]
