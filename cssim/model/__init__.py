"""The simulation model, one room per concept (see each module's docstring for its semantics):

* :mod:`~cssim.model.customers` — what chance decides: customers up front, each chat's per-turn
  draws by blocks when first needed;
* :mod:`~cssim.model.chat` — a chat while it is open (the state its turns need);
* :mod:`~cssim.model.pools` — agents, slots, the backlog-aware routing pick;
* :mod:`~cssim.model.conversation` — turns, a human's typing queue, a bot chat computed whole;
* :mod:`~cssim.model.funnel` — orders, payment, follow-ups, nudges;
* :mod:`~cssim.model.shifts` — who is on when; busy and overtime seconds;
* :mod:`~cssim.model.records` — what a replication leaves for the metrics;
* :mod:`~cssim.model.simulation` — the clock and the wiring.
"""

from cssim.model.customers import Customers, draw_customers
from cssim.model.records import Records
from cssim.model.simulation import Simulation

__all__ = ["Customers", "Records", "Simulation", "draw_customers"]
