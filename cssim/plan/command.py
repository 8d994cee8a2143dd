"""``cssim plan scenario=NAME [key=value ...]``: plan a roster, write its folder, print it.

The arguments are the ``cssim`` command's: hydra overrides on the same schema, composed and
validated the same way (plus the ``plan.*`` checks that depend on the horizon) before anything
runs. Bad input prints one line naming the key and the value and exits with status 2, with
nothing written. ``scenario=`` also takes the path of a YAML scenario (e.g. a ``plan.yaml``).
Exit status 0 when the plan holds in every interval's verification, 1 when it was written but
some target is unreachable or still misses beyond its CI.
"""

from __future__ import annotations

import sys
from pathlib import Path

USAGE = "usage: cssim plan scenario=NAME_OR_PATH [plan.max_lost_rate=0.03 plan.pools=[temps] ... key=value]"


def _error(msg: str, status: int = 2) -> int:
    print(f"cssim: error: {msg}", file=sys.stderr)
    return status


def main(args: list[str]) -> int:
    """Run ``cssim plan`` with the arguments after ``plan``; returns the exit status."""
    if any(a in ("-h", "--help") for a in args):
        print(USAGE)
        print(__doc__.split("\n\n", 1)[1])
        return 0
    for a in args:
        if a.startswith("-") or "=" not in a:
            return _error(f"{a!r}: expected key=value ({USAGE})")
    scenario = "semir_double11_2016"
    overrides = []
    for a in args:
        key, _, value = a.partition("=")
        if key == "scenario":
            scenario = value
        else:
            overrides.append(a)
    # What cssim.load_scenario does, without importing cssim.api (the engine, pandas): a bad
    # argument is refused before anything heavy is loaded.
    from cssim.config import validate_plan
    from cssim.schema import compose_config, resolve_scenario

    try:
        cfg = validate_plan(compose_config([f"scenario={resolve_scenario(str(scenario))}", *overrides]))
    except ValueError as e:
        return _error(str(e))

    from cssim.plan.output import report, write_plan
    from cssim.plan.planner import plan

    try:
        result = plan(cfg)
    except ValueError as e:
        return _error(str(e))
    folder = write_plan(result, Path("plans"))
    print(report(result, folder))
    s = result.summary
    return 0 if s["verified"] and not s["unreachable"] else 1
