"""A chat while it is open: the state its turns need (:class:`Chat`), one small object per open
inquiry rather than a list per fact over the whole horizon (see :mod:`cssim.kernel.conversation`
for the steps that use it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cssim.kernel.pools import Agent


class Chat:
    """One inquiry's chat while it is open, and its own calendar entry (a chat has at most one
    step pending on the calendar: ``callbacks`` names it).

    ``turn``: the message whose reply is pending (1-based); ``turns``: messages in the chat as
    run; ``written_at``: when message ``turn`` was written (s); ``deadline``: the latest instant
    its reply may start (s); ``resp_sum``/``resp_n``: the sum (s) and count of response times so
    far; ``escalated``: handed over by the bot. ``think`` and ``midchat_patience`` (from
    ``think_at``) and ``replies`` (the current agent's pool's, from ``reply_at``) are views into
    the customer's block of draws ``draws``."""

    __slots__ = ("cid", "agent", "turn", "turns", "written_at", "deadline", "resp_sum", "resp_n", "escalated",
                 "draws", "think", "midchat_patience", "replies", "think_at", "reply_at", "callbacks")

    def __init__(self, cid: int, written_at: float, deadline: float, turns: int):
        self.cid = cid
        self.agent: Agent | None = None
        self.turn = 1
        self.turns = turns
        self.written_at = written_at
        self.deadline = deadline
        self.resp_sum = 0.0
        self.resp_n = 0
        self.escalated = False
        self.draws = None
