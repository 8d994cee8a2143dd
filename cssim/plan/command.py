"""``cssim plan [scenario=NAME_OR_PATH] [key=value ...]``: plan a roster, write its folder, print it.

The arguments are the ``cssim`` command's: hydra overrides on the same schema, composed and
validated the same way (plus the ``plan.*`` checks that depend on the horizon) before anything
runs. Bad input prints one line naming the key and the value and exits with status 2, with
nothing written. ``scenario=`` also takes the path of a YAML scenario (e.g. a ``plan.yaml``).
The plans folder is tried before the first simulation, so a folder that cannot be written
stops the plan at once (exit 1) instead of after minutes of work. Exit status 0 when the plan
holds in every interval's verification, 1 when it was written but some target is unreachable
or still misses beyond its CI. docs/planning.md explains the method.
"""

from __future__ import annotations

import sys
from pathlib import Path

USAGE = "usage: cssim plan [scenario=NAME_OR_PATH] [plan.max_lost_rate=0.03 plan.pools=[temps] ... key=value]"
#: Where plans are written: plans/<scenario>/<time>/ under the current folder.
PLANS = Path("plans")


def _error(msg: str, status: int = 2) -> int:
    print(f"cssim: error: {msg}", file=sys.stderr)
    return status


def help_text(overrides: list[str]) -> str:
    """``cssim plan --help``: usage, what it writes, and the ``plan.*`` keys with types and the
    values of the scenario the other arguments pick."""
    from cssim.cli import describe_keys
    from cssim.schema import compose_config

    try:
        cfg = compose_config(overrides)
    except ValueError:
        cfg = compose_config([])
    keys = [line for line in describe_keys(cfg) if line.lstrip().startswith("plan.")]
    return "\n".join([
        USAGE, "",
        "The cheapest roster of shift templates that meets the lost-rate target in every interval,",
        "verified by simulation; written to plans/<scenario>/<time>/ (plan.yaml runs it: cssim scenario=...).",
        "Exit status: 0 the plan holds, 1 a target is unreachable or missed, 2 bad input.", "",
        f"Keys of the plan (key: type = value in {cfg.name}); every key of cssim run --help also applies:",
        *keys,
    ])


def main(args: list[str]) -> int:
    """Run ``cssim plan`` with the arguments after ``plan``; returns the exit status."""
    for a in args:
        if a not in ("-h", "--help") and (a.startswith("-") or "=" not in a):
            return _error(f"{a!r}: expected key=value (see cssim plan --help)")
    scenario = "semir_double11_2016"
    overrides = []
    for a in args:
        key, _, value = a.partition("=")
        if key == "scenario":
            scenario = value
        elif a not in ("-h", "--help"):
            overrides.append(a)
    # What cssim.load_scenario does, without importing cssim.api (the engine, pandas): a bad
    # argument is refused before anything heavy is loaded.
    from cssim.config import validate_plan
    from cssim.schema import compose_config, resolve_scenario

    try:
        name = resolve_scenario(str(scenario))
    except ValueError as e:
        return _error(str(e))
    if any(a in ("-h", "--help") for a in args):
        print(help_text([f"scenario={name}", *overrides]))
        return 0
    try:
        cfg = validate_plan(compose_config([f"scenario={name}", *overrides]))
    except ValueError as e:
        return _error(str(e))
    from cssim.io import check_writable, os_error_line

    try:
        check_writable(PLANS / cfg.name)
    except OSError as e:
        return _error(f"cannot write the plan: {os_error_line(e)}", 1)

    from cssim.plan.output import report, write_plan
    from cssim.plan.planner import plan

    try:
        result = plan(cfg)
    except ValueError as e:
        return _error(str(e))
    try:
        folder = write_plan(result, PLANS)
    except OSError as e:
        return _error(f"writing the plan failed: {os_error_line(e)}", 1)
    print(report(result, folder))
    s = result.summary
    return 0 if s["verified"] and not s["unreachable"] else 1
