"""Start-up: ``cssim --help`` and a refused argument load only what they need.

Structural, not timed: each case runs in a fresh interpreter and lists the modules it ended up
importing. pandas, scipy, matplotlib, pyarrow, simpy and the engine cost about a second to
import; none of them is needed to print the help or to refuse a bad value, so none may be
imported on those paths (issue 11, "Start-up"). ``import cssim`` loads its public names on first
use, and they all still resolve.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

#: Imported by none of the paths below: each costs from 0.1 s (pyarrow) to 0.5 s (pandas).
HEAVY = ("pandas", "scipy", "matplotlib", "pyarrow", "simpy", "tqdm",
         "cssim.api", "cssim.kernel", "cssim.model", "cssim.metrics", "cssim.runner", "cssim.sweep", "cssim.report",
         "cssim.chatlog", "cssim.plan.planner", "cssim.calibrate")

CHILD = """
import json, sys
sys.argv = ["cssim", *json.loads(sys.argv[1])]
status = None
if sys.argv[1:] == ["IMPORT"]:
    import cssim, cssim.cli
else:
    from cssim.cli import main
    try:
        main()
    except SystemExit as e:
        status = e.code
print("\\nSTARTUP " + json.dumps({"status": status, "modules": sorted(sys.modules)}))
"""


def imported(args: list[str], cwd) -> tuple[int | None, list[str], str]:
    """(exit status, heavy modules imported, stderr) of ``cssim ARGS`` in a fresh process."""
    p = subprocess.run([sys.executable, "-c", CHILD, json.dumps(args)], cwd=cwd, capture_output=True, text=True, timeout=120)
    line = next(ln for ln in reversed(p.stdout.splitlines()) if ln.startswith("STARTUP "))
    out = json.loads(line[len("STARTUP "):])
    heavy = [m for m in out["modules"] if any(m == h or m.startswith(h + ".") for h in HEAVY)]
    return out["status"], heavy, p.stderr


@pytest.mark.parametrize(
    "args, status, message",
    [
        (["IMPORT"], None, ""),
        (["--help"], 0, ""),
        (["scenario=erlang_a", "--help"], 0, ""),
        (["staffing.temps.count=-3"], 2, "cssim: error: staffing.temps.count=-3: must be a whole head count >= 0"),
        (["scenario=nope"], 2, "cssim: error: scenario=nope: no such scenario"),
        (["-m", "staffing.temps.count=0,-3"], 2, "cssim: error: staffing.temps.count=-3: must be a whole head count >= 0"),
        (["plan", "plan.max_lost_rate=7"], 2, "cssim: error: plan.max_lost_rate=7.0: must be a probability in [0, 1]"),
        (["aggregate"], 2, "cssim: error: the following arguments are required: SWEEP_FOLDER (see cssim aggregate --help)"),
        (["--version"], 0, ""),
        (["plan", "--help"], 0, ""),
        (["calibrate", "--help"], 0, ""),
        (["report", "--help"], 0, ""),
    ],
)
def test_help_and_refusals_import_nothing_heavy(tmp_path, args, status, message):
    code, heavy, err = imported(args, tmp_path)
    assert code == status, err
    assert err.startswith(message), err
    assert heavy == [], f"cssim {' '.join(args)} imported {heavy}"
    assert list(tmp_path.iterdir()) == []


def test_public_names_resolve_on_first_use(tmp_path):
    """Every name of ``cssim.__all__``, and the package's modules as attributes, as before."""
    code = (
        "import importlib, cssim\n"
        "homes = {'Config': 'cssim.config', 'METRICS': 'cssim.metrics', 'Plan': 'cssim.plan.planner', 'Result': 'cssim.result',\n"
        "         'load_scenario': 'cssim.api', 'simulate': 'cssim.api', 'simulate_many': 'cssim.backends', 'plan': None}\n"
        "assert sorted(homes) == sorted(cssim.__all__)\n"
        "for n, m in homes.items():\n"
        "    assert getattr(cssim, n) is (importlib.import_module('cssim.plan') if m is None else getattr(importlib.import_module(m), n)), n\n"
        "assert callable(cssim.plan) and cssim.plan.Plan is cssim.Plan and cssim.plan.plan is cssim.plan.planner.plan\n"
        "assert cssim.plan.cover.plan_roster and cssim.sweep.aggregate and cssim.api.simulate is cssim.simulate\n"
        "assert set(cssim.__all__) <= set(dir(cssim))\n"
        "for owner in (cssim, cssim.plan):\n"
        "    try:\n        owner.no_such_name\n    except AttributeError:\n        pass\n    else:\n        raise SystemExit('no AttributeError')\n"
        "from cssim import METRICS, Plan, plan, simulate_many\n"
        "print('ok')\n"
    )
    p = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0 and p.stdout.strip() == "ok", p.stderr
