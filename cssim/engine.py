"""Compatibility: the simulation core now lives in :mod:`cssim.kernel` (one module per concept).

``from cssim.engine import Simulation, Records, draw_customers, OPEN, DROPPED, ...`` keeps
working; new code should import from :mod:`cssim.kernel` and its modules.
"""

from cssim.kernel.chat import Chat
from cssim.kernel.conversation import Conversation
from cssim.model.customers import ChatDraws, Customers, draw_customers
from cssim.kernel.funnel import FOLLOWUP, NUDGE, Funnel
from cssim.kernel.pools import BOT, BUSY, FT, NOWHERE, POOL_CODES, READY, TEMPS, Agent, BotPool, HumanPool, Routing
from cssim.model.records import (
    ABANDONED, DONE, DROPPED, INF, NO_ORDER, OPEN, PAID_NOW, UNPAID, UNPAID_NUDGED, Records,
)
from cssim.kernel.shifts import Shifts
from cssim.kernel.simulation import Call, Simulation

__all__ = [
    "ABANDONED", "BOT", "BUSY", "DONE", "DROPPED", "FOLLOWUP", "FT", "INF", "NO_ORDER", "NOWHERE", "NUDGE",
    "OPEN", "PAID_NOW", "POOL_CODES", "READY", "TEMPS", "UNPAID", "UNPAID_NUDGED",
    "Agent", "BotPool", "Call", "Chat", "ChatDraws", "Conversation", "Customers", "Funnel", "HumanPool", "Records", "Routing",
    "Shifts", "Simulation", "draw_customers",
]
