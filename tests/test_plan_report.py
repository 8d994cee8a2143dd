"""A plan's report page (``cssim report`` on a ``cssim plan`` folder), checked in a real browser.

Specification (issue 19): rates in % with their units; the planned heads drawn against the
required ones per pool, with the full-timers and the bot on shift shown; the plan-vs-own-roster
table exactly as the terminal prints it (cost, profit, lost of both kinds, drops, conversion,
each +- CI); the rr_3min target on its chart when set; nothing drawn twice; nothing off the
page (headless Chromium reports how far the page runs past a 1,200 px window: 0).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

import cssim
from cssim.plan.output import write_plan
from cssim.plan.tables import comparison
from cssim.report import build_report

# small_shop_618 as shipped plans temps next to its own full-timers and its bot; a 3-minute
# floor makes the third chart. Few replications: the page is under test, not the plan.
OVERRIDES = ["plan.replications=2", "plan.correction_replications=2", "plan.max_replications=4", "plan.max_iterations=3", "plan.min_rr_3min=0.8"]


@pytest.fixture(scope="module")
def plan_folder(tmp_path_factory) -> tuple[Path, cssim.Plan]:
    plan = cssim.plan(cssim.load_scenario("small_shop_618", OVERRIDES), quiet=True)
    return write_plan(plan, tmp_path_factory.mktemp("plans")), plan


def test_plan_page_reads_as_the_terminal_does(plan_folder):
    folder, plan = plan_folder
    text = build_report(folder).read_text()
    assert "<script src" not in text and "http" not in text.split("<body", 1)[1].split("Folder")[0]
    # The comparison table, row by row as the terminal prints it.
    from cssim.plan.output import report

    terminal = report(plan)
    for row in comparison(plan.summary):
        assert row[0].strip() in terminal and all(cell in terminal for cell in row[1:])
        assert all(cell.replace("+-", "+-") in text for cell in row[1:]), row
    labels = [r[0].strip() for r in comparison(plan.summary)]
    assert {"Cost (all pools)", "Profit", "Lost rate", "Lost inquiries", "before a first reply", "after a bot hand-over", "Mid-chat drops", "Inquiry conversion"} <= set(labels)
    # Rates in %: the plan's lost rate shows as a percent, not a share.
    lost = plan.summary["plan"]["lost_rate"]["mean"]
    assert f"{100 * lost:.2f} +- " in text
    # Every chart once, the rr_3min one included; no summary of dotted keys.
    imgs = re.findall(r'<img class="chart" alt="([^"]+)"', text)
    assert len(imgs) == 3 and len(set(imgs)) == 3, imgs
    assert "3 minutes" in imgs[2] and "difference_plan_minus_own." not in text
    assert "Roster (heads per shift template)" in text and "cost (CNY)" in text


def test_heads_chart_draws_planned_against_required_with_every_pool(plan_folder):
    """The chart's data: the planned temps' working heads (the line the old page lost), the
    required heads, the full-timers on shift and the bot's slots are all in the plan's tables."""
    folder, plan = plan_folder
    req, ver = plan.requirements, plan.verification
    assert req["planned_working_temps"].max() > 0 and req["required"].max() > 0
    assert (req["planned_working_temps"] >= req["required"] - 1e-9).all()
    assert ver["heads_ft"].max() > 0 and ver["heads_bot"].max() > 0
    assert (folder / "charts" / "required_vs_planned.png").stat().st_size > 20_000


def chromium() -> str | None:
    return next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)


@pytest.mark.skipif(chromium() is None, reason="no Chromium binary (CI installs Debian's chromium package)")
def test_plan_page_renders_in_headless_chromium_and_fits(plan_folder, tmp_path):
    folder, _ = plan_folder
    page = build_report(folder)
    flags = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1200,2000"]
    dom = subprocess.run([*flags, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    body = re.search(r"<body[^>]*>", dom.stdout)
    assert body, dom.stderr[-2000:]
    assert 'data-charts-loaded="3"' in body.group(0), body.group(0)
    assert 'data-overflow-px="0"' in body.group(0), body.group(0)  # nothing off the page
    assert 'class="broken"' not in dom.stdout
    shot = folder / "report.png"
    s = subprocess.run([*flags, f"--screenshot={shot}", page.as_uri()], capture_output=True, text=True, timeout=120)
    assert s.returncode == 0 and shot.is_file(), s.stderr[-2000:]


def test_plan_verdict_says_what_the_verification_decided():
    """The page's verdict line: a profit plan is not held to the target; a cost plan holds when
    verified; with only misses within noise it is not shown to hold (a miss whose CI straddles
    the target is not a pass) and says how many; otherwise it does not hold."""
    from cssim.report import _plan_verdict

    base = {"objective": "cost", "verified": True, "unreachable": [], "intervals": {"miss_unresolved_plan": 0}}
    assert _plan_verdict(base) == "holds in every interval"
    noisy = {**base, "verified": False, "intervals": {"miss_unresolved_plan": 3, "miss_confirmed_plan": 0}}
    assert _plan_verdict(noisy).startswith("not shown to hold: no miss confirmed, but 3 interval(s) within noise")
    assert _plan_verdict({**noisy, "intervals": {"miss_unresolved_plan": 3, "miss_confirmed_plan": 1}}).startswith("does not hold")
    assert _plan_verdict({**base, "verified": False}).startswith("does not hold")
    assert _plan_verdict({**base, "unreachable": [{"interval": 0}]}).startswith("does not hold")
    assert _plan_verdict({**base, "objective": "profit"}).startswith("profit-seeking")
