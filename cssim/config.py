"""The configuration schema and its validation: the one place that says what a scenario may contain.

The schema is a tree of dataclasses. Hydra composes YAML scenarios on top of it (unknown keys and
wrong types are refused at composition); :func:`validate` then checks meaning (ranges, shifts
inside the horizon, known distributions) once, before a simulation is built, and raises a
``ValueError`` whose one-line message names the key and the value.

Times in the config are in the unit named by the key (``_s`` seconds, ``_min`` minutes, ``_h``
hours); the simulation clock itself runs in seconds.
"""

from __future__ import annotations

import math
import os
import resource
from datetime import datetime
from dataclasses import dataclass, field, fields
from typing import Any, List, Optional

DISTRIBUTIONS = ("exponential", "lognormal", "gamma", "constant", "empirical")
POLICIES = ("human_first", "bot_first", "humans_only")
POOLS = ("ft", "temps", "bot")
TURN_DISTS = ("constant", "geometric", "poisson")
DELAY_EFFECTS = ("none", "exponential", "linear")
BACKENDS = ("serial", "loky", "ray")
PLANNABLE = ("ft", "temps")
OBJECTIVES = ("cost", "profit")


@dataclass
class Dist:
    """A positive random quantity. ``mean`` in the key's unit; ``cv`` = std/mean.

    ``exponential`` ignores ``cv`` (it is 1); ``constant`` always returns ``mean`` (``.inf``
    allowed, e.g. infinite patience); ``empirical`` resamples ``values`` uniformly.
    """

    dist: str = "exponential"
    mean: float = 1.0
    cv: float = 1.0
    values: List[float] = field(default_factory=list)


@dataclass
class Shift:
    """A block of on-shift time: ``share`` of the pool's head count works from ``start_h`` to
    ``end_h`` (hours from the start of the horizon). Overlapping shifts add up."""

    start_h: float = 0.0
    end_h: float = 24.0
    share: float = 1.0


@dataclass
class Pool:
    """One server pool (``ft``, ``temps`` or ``bot``).

    count: head count (people, or bot instances). concurrency: max open chats per agent.
    speed: 1.0 types the base reply time; 2.0 is twice as fast. reply_s: base reply (typing)
    time in seconds, divided by ``speed``. conversion: multiplier on the order probability of
    chats this pool closes. A human types one reply at a time (replies queue FIFO at the agent);
    the bot replies to all its chats at once. shrinkage: share of rostered heads away (breaks, meetings).
    shifts: when heads are on; empty means the whole head count works the whole horizon.
    cost_per_hour: CNY per rostered head-hour. cost_fixed: CNY for the horizon (e.g. a licence),
    charged when the pool has heads and the routing policy uses it.
    """

    count: int = 0
    concurrency: int = 1
    speed: float = 1.0
    reply_s: Dist = field(default_factory=lambda: Dist("lognormal", 20.0, 0.8))
    conversion: float = 1.0
    shrinkage: float = 0.0
    shifts: List[Shift] = field(default_factory=list)
    cost_per_hour: float = 0.0
    cost_fixed: float = 0.0


@dataclass
class Staffing:
    ft: Pool = field(default_factory=lambda: Pool(count=10, concurrency=1))
    temps: Pool = field(default_factory=Pool)
    bot: Pool = field(default_factory=lambda: Pool(speed=10.0, concurrency=1000))


@dataclass
class Arrivals:
    """Non-homogeneous Poisson arrivals, piecewise constant per planning interval.

    Either ``rate_per_min`` (constant rate, inquiries per minute) or ``total`` inquiries over the
    horizon shaped by ``weights`` (relative, spread evenly over the horizon) or, when ``weights``
    is empty, by the built-in ``profile`` (see :mod:`cssim.profiles`). ``forecast_cv`` > 0 draws
    one gamma multiplier (mean 1) of the whole horizon's rate per replication.
    """

    total: float = 1000.0
    rate_per_min: Optional[float] = None
    profile: str = "flat"
    weights: List[float] = field(default_factory=list)
    forecast_cv: float = 0.0


@dataclass
class Customers:
    """Who writes in (docs/model.md "Abandonment"). ``patience``: first-reply patience (s),
    judged at the instant the first reply starts. ``handover_patience``: after the bot hands
    the chat to a human, how long (s) the customer waits for the human's first reply to start;
    one draw per customer made before the clock starts, from its own stream (so not the same
    value as the first-reply patience). Its default is the first-reply patience's default
    distribution; the shipped scenarios state it next to ``patience`` (change both together). ``midchat_patience``: patience
    (s) for each later reply of a live chat, a fresh draw for every wait (a distribution with
    little mass near zero: a customer in a live chat does not walk out after seconds).
    ``silent_share``: share of first-reply abandoners who leave without closing the chat (an
    agent still types to them)."""

    presale_share: float = 0.7
    returning_share: float = 0.3
    patience: Dist = field(default_factory=lambda: Dist("lognormal", 120.0, 1.7321))
    handover_patience: Dist = field(default_factory=lambda: Dist("lognormal", 120.0, 1.7321))
    # median 240 / sqrt(1 + 0.6^2) = 206 s, above the first-reply median (60 s); P(< 30 s) < 0.1%
    midchat_patience: Dist = field(default_factory=lambda: Dist("lognormal", 240.0, 0.6))
    silent_share: float = 0.7


@dataclass
class Conversation:
    """``turns``: mean number of (customer message, agent reply) pairs, >= 1, drawn as
    ``turns_dist``. ``think_s``: customer time between a reply and the next message (s)."""

    turns: float = 1.0
    turns_dist: str = "constant"
    think_s: Dist = field(default_factory=lambda: Dist("exponential", 45.0, 1.0))


@dataclass
class Routing:
    """``policy``: human_first | bot_first | humans_only. A new inquiry (and a chat the bot
    hands over) goes to the on-shift human with a free slot who can *start* a reply soonest
    (ties: fewer open chats, then full-time). Under ``human_first`` the bot takes the inquiry
    instead when no such human could start within ``takeover_s`` seconds (0: only an idle
    human keeps it; ``inf``: the bot only gets inquiries when every human slot is full) and the
    bot has a free slot. The bot resolves a chat itself with ``bot_resolve_prob``; otherwise it
    hands the chat to a human after ``bot_turns_before_escalation`` bot replies. Escalations
    wait ahead of new inquiries when ``escalation_priority``."""

    policy: str = "humans_only"
    takeover_s: float = 0.0
    bot_resolve_prob: float = 0.67
    bot_turns_before_escalation: int = 1
    escalation_priority: bool = True


@dataclass
class DelayEffect:
    """How slow replies lower the order probability. With ``r`` the chat's mean response time
    (s): ``exponential`` factor = exp(-max(0, r - ref_s) / scale_s); ``linear`` factor =
    max(0, 1 - max(0, r - ref_s) / scale_s); ``none`` factor = 1."""

    kind: str = "exponential"
    ref_s: float = 30.0
    scale_s: float = 600.0


@dataclass
class Funnel:
    order_prob: float = 0.55
    pay_now_prob: float = 0.75
    order_value: Dist = field(default_factory=lambda: Dist("lognormal", 200.0, 1.0))
    delay_effect: DelayEffect = field(default_factory=DelayEffect)


@dataclass
class Followup:
    """Follow-up of presale chats that ended without an order: a task ``after_min`` later, one
    reply of agent work below live chats, expiring ``window_min`` after it falls due."""

    enabled: bool = False
    after_min: float = 15.0
    window_min: float = 30.0
    include_drops: bool = False
    conversion_prob: float = 0.12


@dataclass
class Nudge:
    """Payment nudge of unpaid orders ``after_min`` after ordering (never to returning
    customers, never twice), expiring ``window_min`` after it falls due."""

    enabled: bool = False
    after_min: float = 20.0
    window_min: float = 60.0
    nudged_pay_prob: float = 0.35
    unnudged_pay_prob: float = 0.25


@dataclass
class Economics:
    """``gross_margin``: share of GMV that is profit before service costs."""

    gross_margin: float = 0.25


@dataclass
class Runner:
    """Where a job's replications run (:mod:`cssim.backends`). ``serial``: one after another in
    this process; ``loky``: local worker processes; ``ray``: Ray tasks, on the cluster at
    ``address`` (``host:port``, ``ray://host:10001``, or ``auto`` for the cluster this machine
    belongs to) or, when it is null, on a Ray started for this machine only.
    ``workers``: at most this many replications at once (0: every core, or the whole cluster).
    Replication r always uses streams (seed, r), so the numbers do not depend on the backend."""

    backend: str = "serial"
    workers: int = 0
    address: Optional[str] = None


@dataclass
class Plan:
    """Settings of ``cssim plan`` (:func:`cssim.plan`): the cheapest roster meeting a service
    target in every planning interval, or the one maximising expected profit.

    pools: the pools whose shifts are planned (``ft``, ``temps``); the others (and the bot)
    stay as the scenario has them. shift_lengths_h: lengths of the shift templates (h);
    templates start every ``start_step_h`` hours and end inside the horizon. max_lost_rate:
    per-interval ceiling on lost inquiries / arrivals. min_rr_3min: optional per-interval floor
    on the share answered within 3 minutes. objective: ``cost`` (meet the targets at least
    cost) or ``profit`` (per interval the heads where one more head earns less than it costs,
    then the cheapest cover of those). replications: per correction iteration (common random
    numbers) and per verification round (fresh seeds); correction_replications (default 2), if
    set, replaces it for the correction: with common random numbers a few are enough there when
    intervals hold thousands of inquiries; raise it when they hold tens. exclude_intervals: interval indices
    with no target. max_iterations: cap on correction iterations and on cover-verify rounds.
    max_heads: optional cap on the working heads (of the first planned pool) the plan may require
    in any interval, e.g. the temps one can seat at once; a target that needs more is reported
    unreachable (overlapping shifts may still put more on shift). head_tolerance: an
    interval's requirement is settled when the heads known to meet the target are within
    max(1, head_tolerance x heads) of heads known to miss it. workers: unset, the planner
    runs its replications where every command does (``runner.backend``, ``runner.workers``);
    set, it is short for ``runner.backend=loky runner.workers=<workers>`` (1: serial). max_replications: the most replications one look may grow to:
    a correction run or a verification round whose decision is within noise adds replications
    sequentially (doubling) up to this many before it keeps the value it has (the
    simulation's resolution). forecast_cv: coefficient of variation of the day's volume
    (one gamma multiplier, mean 1, per day, as ``arrivals.forecast_cv``) the plan insures
    against; 0 plans for the point forecast. service_quantile: with ``forecast_cv`` > 0, the
    share of such days on which every interval's target must hold.
    """

    pools: List[str] = field(default_factory=lambda: ["temps"])
    shift_lengths_h: List[float] = field(default_factory=lambda: [4.0, 8.0])
    start_step_h: float = 1.0
    max_lost_rate: float = 0.03
    min_rr_3min: Optional[float] = None
    objective: str = "cost"
    replications: int = 4
    correction_replications: Optional[int] = 4
    exclude_intervals: List[int] = field(default_factory=list)
    max_iterations: int = 10
    max_heads: Optional[int] = None
    head_tolerance: float = 0.02
    workers: Optional[int] = None
    max_replications: int = 32
    forecast_cv: float = 0.0
    service_quantile: float = 0.9


@dataclass
class Config:
    """A whole scenario. ``horizon_h``: simulated hours (arrivals stop at the end, and so does
    the clock). ``warmup_h``: inquiries arriving earlier are simulated but left out of the
    metrics. ``interval_min``: planning interval (rate steps, ``Result.intervals`` rows).
    ``start``: the wall-clock instant of the clock's 0 (ISO 8601 with a UTC offset), used only to
    stamp the chat log; replication ``r`` is the day ``start + r days``. The default is the
    reference case's: Double 11 2016 at midnight, China Standard Time. ``log``: also build the
    chat log (``Result.log``; the command line writes ``chats.parquet`` and ``chats.csv``)."""

    name: str = "custom"
    description: str = ""
    seed: int = 0
    replications: int = 1
    horizon_h: float = 24.0
    warmup_h: float = 0.0
    interval_min: float = 15.0
    start: str = "2016-11-11T00:00:00+08:00"
    log: bool = False
    arrivals: Arrivals = field(default_factory=Arrivals)
    customers: Customers = field(default_factory=Customers)
    conversation: Conversation = field(default_factory=Conversation)
    routing: Routing = field(default_factory=Routing)
    staffing: Staffing = field(default_factory=Staffing)
    funnel: Funnel = field(default_factory=Funnel)
    followup: Followup = field(default_factory=Followup)
    nudge: Nudge = field(default_factory=Nudge)
    economics: Economics = field(default_factory=Economics)
    runner: Runner = field(default_factory=Runner)
    plan: Plan = field(default_factory=Plan)


# --------------------------------------------------------------------------------------------
# Validation


class ConfigError(ValueError):
    """A bad value: the message is ``'key=value: rule'`` on one line; ``key`` is the dotted key
    (``staffing.ft.shifts[0]`` for a list item)."""

    def __init__(self, message: str, key: str):
        super().__init__(message)
        self.key = key


def _fail(key: str, value: Any, rule: str, shown: str | None = None) -> None:
    raise ConfigError(f"{key}={shown if shown is not None else repr(value)}: {rule}", key)


# Memory a replication needs, to refuse a run that cannot fit before it starts. Measured on a
# Semir day (``semir_double11_2016``, 10-turn chats, everything on) with ``benchmarks/memory.py``:
# peak RSS (``resource.getrusage``) of one replication above the import baseline (~175 MB with
# the libraries and the scenario loaded) at 300,000 and 1,200,000 inquiries: 352 and 319 bytes
# per inquiry. Rounded up for other scenarios' longer chats and queues. Re-measure when the
# engine's per-customer arrays change.
BYTES_PER_INQUIRY = 500
# Agents and their chat slots, measured the same way (``tests/test_cli_faults.py`` keeps the
# guard honest): 1,000,000 temps without shifts ~290 MB, 1,000,000 full-timers with two shifts
# and 3 slots each ~470 MB, 2 agents with 5,000,000 slots each ~360 MB (36 bytes a slot).
BYTES_PER_AGENT = 400
BYTES_PER_SLOT = 50
BASE_BYTES = 200 * 2**20
# Forecast uncertainty: plan for the day's multiplier at mean + 3 standard deviations.
FORECAST_MARGIN_SD = 3.0


def expected_inquiries(cfg: Config) -> float:
    """Inquiries a replication should draw: ``arrivals.total``, or ``rate_per_min`` times the
    horizon, times the forecast margin (1 + 3 ``forecast_cv``)."""
    a = cfg.arrivals
    n = a.rate_per_min * cfg.horizon_h * 60.0 if a.rate_per_min is not None else a.total
    return n * (1.0 + FORECAST_MARGIN_SD * a.forecast_cv)


def _pools(cfg: Config) -> list[tuple[str, Pool]]:
    return [(f"staffing.{f.name}", getattr(cfg.staffing, f.name)) for f in fields(cfg.staffing)]


def estimated_memory_bytes(cfg: Config) -> float:
    """Peak memory (bytes) one replication of ``cfg`` is expected to need: its inquiries, its
    agents and their chat slots."""
    agents = sum(p.count for _, p in _pools(cfg))
    slots = sum(p.count * p.concurrency for _, p in _pools(cfg))
    return BASE_BYTES + BYTES_PER_INQUIRY * expected_inquiries(cfg) + BYTES_PER_AGENT * agents + BYTES_PER_SLOT * slots


def machine_memory_bytes() -> int | None:
    """This machine's memory in bytes (physical, or a smaller cgroup limit); None if unknown."""
    sizes = []
    try:
        sizes.append(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        pass
    for f in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            with open(f) as fh:
                text = fh.read().strip()
        except OSError:
            continue
        if text.isdigit() and int(text) < 2**60:
            sizes.append(int(text))
    try:  # an address-space limit (ulimit -v, a batch system's) caps what a process can use
        soft = resource.getrlimit(resource.RLIMIT_AS)[0]
        if soft != resource.RLIM_INFINITY:
            sizes.append(soft)
    except (ValueError, OSError, AttributeError):
        pass
    return min(sizes) if sizes else None


def _gb(n: float) -> str:
    return f"{n / 1e9:,.1f} GB" if n < 1e11 else f"{n / 1e9:,.0f} GB"


def _check_memory(cfg: Config) -> None:
    total = machine_memory_bytes()
    need = estimated_memory_bytes(cfg)
    if total is None or need <= total:
        return
    # Name the biggest consumer: the inquiries, or the pool whose agents and slots weigh most.
    a = cfg.arrivals
    key, value = ("arrivals.rate_per_min", a.rate_per_min) if a.rate_per_min is not None else ("arrivals.total", a.total)
    what, biggest = f"about {expected_inquiries(cfg):,.3g} inquiries", BYTES_PER_INQUIRY * expected_inquiries(cfg)
    for k, p in _pools(cfg):
        weight = BYTES_PER_AGENT * p.count + BYTES_PER_SLOT * p.count * p.concurrency
        if weight > biggest:
            what, biggest = f"{p.count:,} agents with {p.count * p.concurrency:,} chat slots", weight
            key, value = (f"{k}.count", p.count) if BYTES_PER_AGENT * p.count >= BYTES_PER_SLOT * p.count * p.concurrency else (f"{k}.concurrency", p.concurrency)
    _fail(
        key, value,
        f"{what} need about {_gb(need)} of memory in all, more than this machine's {_gb(total)}",
        shown=f"{value:,}" if isinstance(value, int) else f"{value:g}",
    )


def _finite(key: str, v: float, lo: float = -math.inf, lo_open: bool = False) -> None:
    if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v):
        _fail(key, v, "must be a finite number")
    if v < lo or (lo_open and v == lo):
        _fail(key, v, f"must be {'>' if lo_open else '>='} {lo:g}")


def _prob(key: str, v: float) -> None:
    if not isinstance(v, (int, float)) or isinstance(v, bool) or not 0.0 <= v <= 1.0:
        _fail(key, v, "must be a probability in [0, 1]")


def _dist(key: str, d: Dist, allow_inf: bool = False) -> None:
    if d.dist not in DISTRIBUTIONS:
        _fail(f"{key}.dist", d.dist, f"unknown distribution (one of {', '.join(DISTRIBUTIONS)})")
    if d.dist == "empirical":
        if not d.values:
            _fail(f"{key}.values", list(d.values), "empirical distribution needs values")
        for v in d.values:
            _finite(f"{key}.values", v, 0.0)
        return
    if d.dist == "constant" and allow_inf and d.mean == math.inf:
        return
    _finite(f"{key}.mean", d.mean, 0.0, lo_open=d.dist != "constant")
    if d.dist in ("lognormal", "gamma"):
        _finite(f"{key}.cv", d.cv, 0.0, lo_open=True)


def start_instant(cfg: Config) -> datetime:
    """``cfg.start`` as a timezone-aware datetime (``ValueError`` naming the key otherwise)."""
    try:
        t = datetime.fromisoformat(str(cfg.start).replace("Z", "+00:00"))
    except ValueError:
        t = None
    if t is None or t.tzinfo is None:
        _fail("start", cfg.start, "must be an ISO 8601 date-time with a UTC offset, e.g. 2016-11-11T00:00:00+08:00")
    return t


def validate(cfg: Config) -> Config:
    """Check the meaning of every value; raise ``ValueError('key=value: rule')`` on the first
    bad one. Returns ``cfg`` unchanged so it can be chained."""
    _finite("horizon_h", cfg.horizon_h, 0.0, lo_open=True)
    _finite("warmup_h", cfg.warmup_h, 0.0)
    if cfg.warmup_h >= cfg.horizon_h:
        _fail("warmup_h", cfg.warmup_h, f"must be below horizon_h={cfg.horizon_h:g}")
    _finite("interval_min", cfg.interval_min, 0.0, lo_open=True)
    if cfg.interval_min > cfg.horizon_h * 60:
        _fail("interval_min", cfg.interval_min, "must not exceed the horizon")
    if not isinstance(cfg.replications, int) or cfg.replications < 1:
        _fail("replications", cfg.replications, "must be an integer >= 1")
    if not isinstance(cfg.seed, int) or cfg.seed < 0:
        _fail("seed", cfg.seed, "must be an integer >= 0")
    start_instant(cfg)

    a = cfg.arrivals
    if a.rate_per_min is not None:
        _finite("arrivals.rate_per_min", a.rate_per_min, 0.0)
    else:
        _finite("arrivals.total", a.total, 0.0)
        if a.weights:
            for w in a.weights:
                _finite("arrivals.weights", w, 0.0)
            if sum(a.weights) <= 0:
                _fail("arrivals.weights", list(a.weights), "must not all be zero")
        else:
            from cssim.profiles import PROFILES

            if a.profile not in PROFILES:
                _fail("arrivals.profile", a.profile, f"unknown profile (one of {', '.join(PROFILES)})")
    _finite("arrivals.forecast_cv", a.forecast_cv, 0.0)

    c = cfg.customers
    _prob("customers.presale_share", c.presale_share)
    _prob("customers.returning_share", c.returning_share)
    _prob("customers.silent_share", c.silent_share)
    _dist("customers.patience", c.patience, allow_inf=True)
    _dist("customers.handover_patience", c.handover_patience, allow_inf=True)
    _dist("customers.midchat_patience", c.midchat_patience, allow_inf=True)

    cv = cfg.conversation
    _finite("conversation.turns", cv.turns, 1.0)
    if cv.turns_dist not in TURN_DISTS:
        _fail("conversation.turns_dist", cv.turns_dist, f"unknown (one of {', '.join(TURN_DISTS)})")
    if cv.turns_dist == "constant" and cv.turns != int(cv.turns):
        _fail("conversation.turns", cv.turns, "must be a whole number when turns_dist=constant")
    _dist("conversation.think_s", cv.think_s)

    r = cfg.routing
    if r.policy not in POLICIES:
        _fail("routing.policy", r.policy, f"unknown policy (one of {', '.join(POLICIES)})")
    if not isinstance(r.takeover_s, (int, float)) or isinstance(r.takeover_s, bool) or not r.takeover_s >= 0:
        _fail("routing.takeover_s", r.takeover_s, "must be a number of seconds >= 0 (inf allowed)")
    _prob("routing.bot_resolve_prob", r.bot_resolve_prob)
    if not isinstance(r.bot_turns_before_escalation, int) or r.bot_turns_before_escalation < 1:
        _fail("routing.bot_turns_before_escalation", r.bot_turns_before_escalation, "must be an integer >= 1")

    for name in POOLS:
        p: Pool = getattr(cfg.staffing, name)
        k = f"staffing.{name}"
        if not isinstance(p.count, int) or p.count < 0:
            _fail(f"{k}.count", p.count, "must be a whole head count >= 0")
        if not isinstance(p.concurrency, int) or p.concurrency < 1:
            _fail(f"{k}.concurrency", p.concurrency, "must be an integer >= 1")
        _finite(f"{k}.speed", p.speed, 0.0, lo_open=True)
        _dist(f"{k}.reply_s", p.reply_s)
        _finite(f"{k}.conversion", p.conversion, 0.0)
        _prob(f"{k}.shrinkage", p.shrinkage)
        if p.shrinkage >= 1.0:
            _fail(f"{k}.shrinkage", p.shrinkage, "must be below 1 (nobody would work)")
        _finite(f"{k}.cost_per_hour", p.cost_per_hour, 0.0)
        _finite(f"{k}.cost_fixed", p.cost_fixed, 0.0)
        for i, s in enumerate(p.shifts):
            sk = f"{k}.shifts[{i}]"
            _finite(f"{sk}.start_h", s.start_h, 0.0)
            _finite(f"{sk}.end_h", s.end_h, 0.0)
            if s.end_h > cfg.horizon_h or s.start_h >= cfg.horizon_h:
                _fail(sk, f"{s.start_h:g}-{s.end_h:g}h", f"shift outside the horizon (0-{cfg.horizon_h:g}h)")
            if s.end_h <= s.start_h:
                _fail(sk, f"{s.start_h:g}-{s.end_h:g}h", "end_h must be after start_h")
            _finite(f"{sk}.share", s.share, 0.0)
    if cfg.staffing.ft.count + cfg.staffing.temps.count == 0 and r.policy == "humans_only":
        _fail("staffing.ft.count", cfg.staffing.ft.count, "humans_only routing needs at least one human")

    f = cfg.funnel
    _prob("funnel.order_prob", f.order_prob)
    _prob("funnel.pay_now_prob", f.pay_now_prob)
    _dist("funnel.order_value", f.order_value)
    if f.delay_effect.kind not in DELAY_EFFECTS:
        _fail("funnel.delay_effect.kind", f.delay_effect.kind, f"unknown (one of {', '.join(DELAY_EFFECTS)})")
    _finite("funnel.delay_effect.ref_s", f.delay_effect.ref_s, 0.0)
    _finite("funnel.delay_effect.scale_s", f.delay_effect.scale_s, 0.0, lo_open=True)

    fu = cfg.followup
    _finite("followup.after_min", fu.after_min, 0.0)
    _finite("followup.window_min", fu.window_min, 0.0)
    _prob("followup.conversion_prob", fu.conversion_prob)
    nu = cfg.nudge
    _finite("nudge.after_min", nu.after_min, 0.0)
    _finite("nudge.window_min", nu.window_min, 0.0)
    _prob("nudge.nudged_pay_prob", nu.nudged_pay_prob)
    _prob("nudge.unnudged_pay_prob", nu.unnudged_pay_prob)
    _finite("economics.gross_margin", cfg.economics.gross_margin, 0.0)
    rn = cfg.runner
    if rn.backend not in BACKENDS:
        _fail("runner.backend", rn.backend, f"unknown backend (one of {', '.join(BACKENDS)})")
    if not isinstance(rn.workers, int) or isinstance(rn.workers, bool) or rn.workers < 0:
        _fail("runner.workers", rn.workers, "must be an integer >= 0 (0: all cores)")
    if rn.address is not None and (rn.backend != "ray" or not (rn.address == "auto" or ":" in rn.address)):
        _fail("runner.address", rn.address, "a Ray cluster's host:port (or auto), with runner.backend=ray")
    _validate_plan(cfg, planning=False)
    _check_memory(cfg)  # last: every number it reads is valid by now
    return cfg


def _int(key: str, v: Any, lo: int) -> None:
    if not isinstance(v, int) or isinstance(v, bool) or v < lo:
        _fail(key, v, f"must be an integer >= {lo}")


def _validate_plan(cfg: Config, planning: bool) -> None:
    """The ``plan`` keys. Their ranges always; what depends on the horizon and the intervals
    (shift lengths, template coverage, interval indices) only when planning, so a scenario
    with a short horizon still simulates with the default plan settings."""
    pl = cfg.plan
    if not pl.pools:
        _fail("plan.pools", list(pl.pools), "must name at least one pool")
    for p in pl.pools:
        if p not in PLANNABLE:
            _fail("plan.pools", list(pl.pools), f"unknown or unplannable pool {p!r} (one of {', '.join(PLANNABLE)})")
    if len(set(pl.pools)) != len(pl.pools):
        _fail("plan.pools", list(pl.pools), "names a pool twice")
    if not pl.shift_lengths_h:
        _fail("plan.shift_lengths_h", list(pl.shift_lengths_h), "must give at least one shift length")
    for x in pl.shift_lengths_h:
        _finite("plan.shift_lengths_h", x, 0.0, lo_open=True)
    _finite("plan.start_step_h", pl.start_step_h, 0.0, lo_open=True)
    _prob("plan.max_lost_rate", pl.max_lost_rate)
    if pl.min_rr_3min is not None:
        _prob("plan.min_rr_3min", pl.min_rr_3min)
    if pl.objective not in OBJECTIVES:
        _fail("plan.objective", pl.objective, f"unknown objective (one of {', '.join(OBJECTIVES)})")
    _int("plan.replications", pl.replications, 2)  # a CI needs two
    if pl.correction_replications is not None:
        _int("plan.correction_replications", pl.correction_replications, 1)
    for i in pl.exclude_intervals:
        _int("plan.exclude_intervals", i, 0)
    _int("plan.max_iterations", pl.max_iterations, 1)
    if pl.max_heads is not None:
        _int("plan.max_heads", pl.max_heads, 0)
    _finite("plan.head_tolerance", pl.head_tolerance, 0.0)
    if pl.head_tolerance >= 1.0:
        _fail("plan.head_tolerance", pl.head_tolerance, "must be below 1")
    if pl.workers is not None:
        _int("plan.workers", pl.workers, 1)
    _int("plan.max_replications", pl.max_replications, 2)
    if pl.max_replications < pl.replications or (pl.correction_replications or 0) > pl.max_replications:
        _fail("plan.max_replications", pl.max_replications, "must be at least plan.replications and plan.correction_replications")
    _finite("plan.forecast_cv", pl.forecast_cv, 0.0)
    _finite("plan.service_quantile", pl.service_quantile, 0.0, lo_open=True)
    if not pl.service_quantile < 1.0:
        _fail("plan.service_quantile", pl.service_quantile, "must be a share in (0, 1), e.g. 0.9")
    if not planning:
        return
    H = cfg.horizon_h
    for x in pl.shift_lengths_h:
        if x > H + 1e-9:
            _fail("plan.shift_lengths_h", list(pl.shift_lengths_h), f"a shift longer than the horizon ({H:g} h)")
    n_intervals = math.ceil(H * 60.0 / cfg.interval_min - 1e-9)
    for i in pl.exclude_intervals:
        if not i < n_intervals:
            _fail("plan.exclude_intervals", list(pl.exclude_intervals), f"interval indices must be in 0-{n_intervals - 1}")
    # Every instant of the horizon must lie in some template, or no roster could cover it.
    spans = sorted(
        (k * pl.start_step_h, k * pl.start_step_h + x)
        for x in pl.shift_lengths_h
        for k in range(int((H - x) / pl.start_step_h + 1e-9) + 1)
    )
    reach = 0.0
    for a, b in spans:
        if a > reach + 1e-9:
            break
        reach = max(reach, b)
    if reach < H - 1e-9:
        _fail("plan.start_step_h", pl.start_step_h, f"shift templates of {list(pl.shift_lengths_h)} h leave {reach:g}-{H:g} h uncovered")


def validate_plan(cfg: Config) -> Config:
    """:func:`validate` plus the checks of ``plan`` that depend on the horizon: what
    ``cssim plan`` runs before it simulates anything."""
    validate(cfg)
    _validate_plan(cfg, planning=True)
    return cfg
