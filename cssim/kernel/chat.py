"""A chat while it is open: the state its turns need (:class:`Chat`), one small object per open
inquiry rather than a list per fact over the whole horizon (see :mod:`cssim.kernel.conversation`
for the steps that use it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cssim.kernel.pools import Agent


class Chat:
    """One inquiry's chat while it is open, and a SimPy event of its own next step (a chat has
    at most one step pending on the calendar: ``callbacks`` names it). ``k``: the message whose
    reply is pending (1-based); ``n``: messages in the chat as run; ``t``: when message ``k`` was
    written (s); ``dl``: its deadline (s); ``rs``/``rn``: the sum (s) and count of response
    times so far. ``th``/``mp`` (think times and mid-chat patiences, from ``go``) and ``rp`` (the
    current agent's pool's replies, from ``ro``) are views into the customer's block ``blk``."""

    __slots__ = ("cid", "agent", "k", "n", "t", "dl", "rs", "rn", "esc", "blk", "th", "mp", "rp", "go", "ro", "callbacks")
    _ok = True

    def __init__(self, cid: int, t: float, deadline: float, n: int):
        self.cid = cid
        self.agent: Agent | None = None
        self.k = 1
        self.n = n
        self.t = t
        self.dl = deadline
        self.rs = 0.0
        self.rn = 0
        self.esc = False
        self.blk = None

    @property
    def value(self) -> "Chat":  # what a SimPy callback reads from its event
        return self
