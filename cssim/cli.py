"""The ``cssim`` command: one entry point, six subcommands, one style of help and errors.

    cssim [run] [key=value ...]          simulate a scenario (run is the default command)
    cssim sweep key=a,b,c [key2=x,y]     every combination (the same as cssim -m ...)
    cssim plan [key=value ...]           the cheapest roster that meets the targets
    cssim calibrate LOG [options]        fit a scenario to a chat log
    cssim report DIR [options]           report.html for a run, sweep or plan folder
    cssim aggregate DIR                  rebuild a sweep's tables and charts

Why this shape: runs, sweeps and plans take hydra overrides (``key=value`` on one schema,
composed with hydra's compose API and validated before anything starts), and hydra's own
command line is kept for them (launchers, ``-m``, ``--cfg``); the other commands take options.
An argparse front (:func:`main`) routes the subcommands, prints one help listing them, prints
cssim's version, and gives every command the same error line (:mod:`cssim.commands`).

What a user can rely on (docs/outputs.md says it in full):

* Bad input never starts a run: every argument (every point of a sweep) is composed and
  validated first, and a problem prints one line naming the key and the value, exit status 2,
  with nothing written.
* Every run and sweep gets a new folder of its own (:func:`cssim.io.unique_run_dir`), even when
  several start at the same instant; a folder named with ``hydra.run.dir`` or
  ``hydra.sweep.dir`` is claimed (:func:`cssim.io.claim_folder`): of two runs started into it
  together one runs, the other is refused (exit 2). Result files appear whole or not at all.
* A single run that fails or is interrupted (Ctrl-C: exit 130; SIGTERM: exit 143) prints one
  line and leaves nothing behind: a folder it made is removed, and in a folder the user named
  what it wrote there (``.hydra/``, its log) is removed. A sweep point that fails is reported,
  the others are kept and aggregated, and the exit status is 1; Ctrl-C or SIGTERM stops a
  sweep, aggregates the points that finished (the rest are marked not run) and exits 130 or
  143; ``kill -9`` of a parallel sweep takes its workers with it.
* A file-system error (read-only folder, full disk) is one line naming the path and the OS error:
  exit 1, or 2 when the path is one the user gave.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import signal
import sys
import threading
import time
import typing
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.experimental.callback import Callback
from hydra.types import RunMode
from omegaconf import DictConfig

from cssim.config import DELAY_EFFECTS, DISTRIBUTIONS, POLICIES, TURN_DISTS, Config
from cssim import __version__
from cssim.cluster import launcher_problem, prepare_cli_env
from cssim.commands import CommandParser, handle_term, stop_status
from cssim.io import FolderTaken, claim_folder, os_error_line, release_folder, unique_run_dir, write_atomic
from cssim.paths import DEFAULT_SCENARIO, config_dir
from cssim.schema import compose_config, expand_sweep, one_line, prepare_overrides, register, scenario_names, to_config

# The engine (cssim.runner) and the sweep tables and charts (cssim.sweep: pandas, matplotlib)
# are imported where a job runs or a sweep is aggregated, not here: --help and a refused
# argument answer without them (tests/test_startup.py keeps it so).

_HELP_FLAGS = ("--help", "-h")
_HYDRA_INFO_FLAGS = ("--hydra-help", "--info", "-i", "--cfg", "-c", "--shell-completion", "-sc", "--version")
_HYDRA_VALUED_FLAGS = ("-cn", "--config-name", "-cp", "--config-path", "-cd", "--config-dir", "--package", "-p")
#: The subcommands, with their one-line help (``cssim --help`` lists them in this order).
COMMANDS = {
    "run": "simulate a scenario and print its KPI table (the default command)",
    "sweep": "every combination of key=a,b,c values, then tables and charts (= cssim -m ...)",
    "plan": "the cheapest roster of shifts that meets the lost-rate target",
    "calibrate": "fit a scenario to a chat log (CSV or Parquet)",
    "report": "write report.html for a run, sweep or plan folder",
    "aggregate": "rebuild a sweep's tables and charts from its folder",
}


def _error(msg: str, status: int = 2) -> typing.NoReturn:
    print(f"cssim: error: {msg}", file=sys.stderr)
    sys.exit(status)


def _is_override(a: str) -> bool:
    return not a.startswith("-")


def _override_positions(argv: list[str]) -> list[int]:
    """Indices of the config overrides in ``argv`` (hydra's flags and their values left out)."""
    out, skip = [], False
    for i, a in enumerate(argv):
        if skip:
            skip = False
        elif a in _HYDRA_VALUED_FLAGS:
            skip = True
        elif _is_override(a):
            out.append(i)
    return out


def _user_overrides(argv: list[str]) -> list[str] | None:
    """The config overrides on the command line (hydra's own flags and hydra.* keys left out,
    except ``hydra.searchpath``, which says where scenarios are), or None when hydra is only
    asked for help or info."""
    if any(a.split("=", 1)[0] in _HYDRA_INFO_FLAGS + _HELP_FLAGS for a in argv):
        return None
    out = []
    for i in _override_positions(argv):
        key = argv[i].lstrip("+~").split("=", 1)[0]
        if not key.startswith("hydra") or key == "hydra.searchpath":
            out.append(argv[i])
    return out


def _check(overrides: list[str]) -> tuple[str | None, Config | None]:
    """Compose and validate every run ``overrides`` ask for: (first problem as one line, None)
    or (None, the first run's config)."""
    for a in overrides:
        if "=" not in a and not a.startswith("~"):
            return f"{a!r}: expected key=value (e.g. staffing.temps.count=500)", None
    try:
        combos = expand_sweep(overrides)
    except Exception as e:  # hydra's override grammar
        return one_line(e), None
    first = None
    for combo in combos:
        try:
            cfg = compose_config(combo)
        except ValueError as e:
            return str(e), None
        first = first or cfg
    return None, first


def check_arguments(argv: list[str]) -> str | None:
    """Compose and validate every run the arguments ask for; the first problem as one line."""
    overrides = _user_overrides(argv)
    if overrides is None:
        return None
    return _check(overrides)[0]


def prepare_argv(argv: list[str]) -> list[str]:
    """``argv`` with its overrides as hydra should see them (``.inf`` as ``inf``; a scenario
    file, or one found on ``hydra.searchpath``, read, checked and named): see
    :func:`cssim.schema.prepare_overrides`. Raises ``ValueError`` (one line) for a bad file."""
    pos = _override_positions(argv)
    fixed = prepare_overrides([argv[i] for i in pos])
    out = list(argv)
    for i, o in zip(pos, fixed):
        out[i] = o
    return out


# --- the run folder -------------------------------------------------------------------------


@dataclass
class Session:
    """One ``cssim`` run or sweep: its folder and how it went. Made by :func:`run_command`,
    handed to the hydra job (a closure) and read back when hydra returns."""

    multirun: bool
    folder: Path | None = None  # the run or sweep folder
    made: bool = False  # made by this command (removed if nothing finished)
    user_given: bool = False  # named with hydra.run.dir / hydra.sweep.dir
    claim: Path | None = None  # the marker that holds a named folder (cssim.io.claim_folder)
    failed: bool = False
    status: int = 1  # exit status when failed
    done: bool = False  # the single run wrote its results
    aggregated: bool = False
    leftovers: list[Path] = field(default_factory=list)  # what a named folder held before


def _given(argv: list[str], key: str) -> str | None:
    for a in argv:
        k, eq, v = a.partition("=")
        if eq and k.lstrip("+") == key:
            return v
    return None


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in name) or "scenario"


def _resolve_dir(key: str, given: str, overrides: list[str]) -> str:
    """A ``hydra.run.dir`` / ``hydra.sweep.dir`` with interpolations (``${now:...}``,
    ``${name}``), resolved as hydra will, so the folder can be claimed before hydra starts."""
    from hydra import compose, initialize_config_dir
    from hydra.core.hydra_config import HydraConfig
    from omegaconf import OmegaConf

    from cssim.paths import config_dir

    first = expand_sweep(list(overrides))[0] if overrides else []  # a sweep's dir is one for all points
    with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3", job_name="cssim"):
        cfg = compose("config", overrides=[*prepare_overrides(first), f"{key}={given}"], return_hydra_config=True)
    HydraConfig.instance().set_config(cfg)
    return str(OmegaConf.select(cfg, key))


def _make_folder(argv: list[str], session: Session, cfg: Config, overrides: list[str]) -> list[str]:
    """Make this command's run or sweep folder before hydra starts, and tell hydra to use it:
    a new one from :func:`unique_run_dir`, or the folder the user named, claimed for this
    command alone and refused if it holds another run's results. Exits with one line if it
    cannot be had."""
    multirun = session.multirun
    key = "hydra.sweep.dir" if multirun else "hydra.run.dir"
    given = _given(argv, key)
    if given is not None:
        session.user_given = True
        try:
            resolved = _resolve_dir(key, given, overrides) if "${" in given else given
        except Exception as e:
            _error(f"{key}={given}: {one_line(e)}")
        folder = Path(resolved)
        existed = folder.exists()
        try:
            session.claim = claim_folder(folder)
        except FolderTaken as e:
            _error(f"{key}={given}: another cssim command (process {e.pid or '?'}) is writing into it; "
                   f"wait for it, or name another folder (if none is running, remove {e.marker})")
        except OSError as e:
            _error(f"{key}={given}: cannot make the folder: {os_error_line(e)}", 2)
        session.folder, session.made = folder, not existed
        session.leftovers = [p for p in folder.iterdir() if p != session.claim]
        marker = "multirun.yaml" if multirun else "metrics.json"
        if (folder / marker).exists():
            release_folder(session.claim)
            _error(f"{key}={given}: already holds the results of another {'sweep' if multirun else 'run'}; name a new folder")
        # Absolute for a sweep, as below; resolved, so hydra writes where the claim is.
        value = folder.resolve() if multirun else folder
        return [f"{key}={value}" if a.partition("=")[0].lstrip("+") == key else a for a in argv]
    root = Path("multirun" if multirun else "outputs") / _safe(cfg.name)
    try:
        folder = unique_run_dir(root)
    except OSError as e:
        _error(f"cannot make the {'sweep' if multirun else 'run'} folder in {root}: {os_error_line(e)}", 1)
    session.folder, session.made = folder, True
    # A sweep's folder goes to hydra absolute: Ray and SLURM workers start in other folders
    # and must write their points into this one.
    return [*argv, f"{key}={folder.resolve() if multirun else folder}"]


def _remove_unfinished(session: Session) -> None:
    """A run that did not finish, or a sweep that stopped before any point finished, leaves
    nothing: a folder this command made goes; in a folder the user named, what this command
    put there goes (``.hydra/``, the log), and what was there before stays."""
    folder = session.folder
    if folder is None or not Path(folder).exists():
        return
    finished = any(Path(folder).glob("*/metrics.json")) if session.multirun else session.done
    if finished:
        return
    if session.made:
        shutil.rmtree(folder, ignore_errors=True)
    elif session.user_given:
        for p in Path(folder).iterdir():
            if p not in session.leftovers and p != session.claim:
                shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)


# --- parallel sweep workers -----------------------------------------------------------------

_WATCH_THREAD = "cssim-parent-watch"


def _watch_parent() -> None:
    """In a sweep worker process (joblib/loky): exit as soon as the process that started it
    dies. A worker busy with a long job would otherwise run on for minutes after ``kill -9`` of
    ``cssim``. Ctrl-C is left to the main process, which stops the workers itself."""
    main_pid = os.environ.get("CSSIM_MAIN_PID")
    if not main_pid or int(main_pid) == os.getpid():
        return
    if any(t.name == _WATCH_THREAD for t in threading.enumerate()):  # this worker is watching
        return
    parent = os.getppid()
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the worker's main thread: Ctrl-C then interrupts the job itself
        pass

    def watch() -> None:
        while os.getppid() == parent:  # an orphan is re-parented (to init or a subreaper)
            time.sleep(0.2)
        os._exit(1)

    threading.Thread(target=watch, name=_WATCH_THREAD, daemon=True).start()


# --- hydra's side ---------------------------------------------------------------------------


def aggregate_sweep(root: Path, session: Session | None = None) -> None:
    """After all sweep jobs (whatever launcher ran them): tables and charts at the sweep root,
    printed; a failure is recorded in ``session``."""
    from cssim.sweep import aggregate

    try:
        report = aggregate(root)
    except Exception as e:
        reason = os_error_line(e) if isinstance(e, OSError) else one_line(e)
        print(f"cssim: error: aggregating {root} failed: {reason}", file=sys.stderr)
        if session is not None:
            session.failed = True
        return
    print_sweep(report)
    if session is not None:
        session.aggregated = True
        session.failed = session.failed or bool(report.failed)


def print_sweep(report) -> None:
    pts = report.points
    cols = report.swept + ["replications"]
    show = pts[cols].copy()
    for m, scale, unit in (("lost_rate", 100, "%"), ("inquiry_conversion", 100, "%"), ("cost_total", 1, "CNY"), ("profit", 1, "CNY")):
        show[f"{m} ({unit})"] = [
            f"{scale * a:,.2f} +- {scale * b:,.2f}" if b == b else f"{scale * a:,.2f}"
            for a, b in zip(pts[f"{m}_mean"], pts[f"{m}_ci95"])
        ]
    print(f"\nSweep {report.root} ({len(pts)} points; mean +- 95% CI half-width over replications)")
    print(show.to_string(index=False))
    print(f"tables: {report.root / 'points.csv'}, {report.root / 'runs.csv'}")
    for c in report.charts:
        print(f"chart:  {c}")
    for point, _status, reason in report.failed:
        print(f"cssim: error: sweep point {point} failed: {reason}", file=sys.stderr)


def _reason(e: BaseException) -> str:
    if isinstance(e, OSError):
        return os_error_line(e)
    if isinstance(e, MemoryError):
        return f"out of memory ({one_line(e)}); try fewer inquiries (arrivals.total) or a shorter horizon"
    return f"{type(e).__name__}: {one_line(e)}"


def _job(cfg: DictConfig, session: Session) -> None:
    """One hydra job: a single run (in this process) or a sweep point (here or in a worker,
    with its own copy of ``session``)."""
    hc = HydraConfig.get()
    out = Path(hc.runtime.output_dir)
    overrides = list(hc.overrides.task)
    multirun = hc.mode == RunMode.MULTIRUN
    if multirun:
        _watch_parent()
    label = f"#{hc.job.num} " + " ".join(overrides) if multirun else "cssim"
    from cssim.runner import kpi_table, run_replications, write_run

    try:
        config = to_config(cfg)
        results = run_replications(config, label=label)
        write_run(out, config, results, overrides)
    except Exception as e:
        reason = _reason(e)
        session.failed = True
        if not multirun:
            session.status = 2 if isinstance(e, OSError) and session.user_given else 1
            print(f"cssim: error: {reason}", file=sys.stderr)
            return
        # Keep the sweep going: the point is marked failed and reported at aggregation.
        try:
            write_atomic(out / "error.txt", lambda p: p.write_text(reason + "\n"))
        except OSError:
            pass  # a full disk: the point has no metrics.json, so it counts as not run
        print(f"cssim: error: sweep point {hc.job.num} ({' '.join(overrides)}) failed: {reason}", file=sys.stderr)
        return
    if not multirun:
        session.done = True
        print(kpi_table(config, results))
        print(f"results: {out / 'metrics.json'}, {out / 'intervals.csv'}")
        if config.log:
            print(f"chat log: {out / 'chats.parquet'}, {out / 'chats.csv'} ({len(results)} day(s))")


# --- commands -------------------------------------------------------------------------------


def _aggregate_parser(prog: str = "cssim aggregate") -> CommandParser:
    p = CommandParser(prog=prog, description="Rebuild a sweep's tables (points.csv, runs.csv) and charts from the "
                      "metrics.json of its point folders; a point without results is reported (exit 1).")
    p.add_argument("folder", metavar="SWEEP_FOLDER", type=Path, help="a sweep folder (multirun/NAME/TIME)")
    return p


def _aggregate_command(args: list[str]) -> int:
    ns = _aggregate_parser().parse_args(args)
    from cssim.sweep import aggregate

    try:
        report = aggregate(ns.folder)
    except ValueError as e:
        _error(str(e))
    except OSError as e:
        _error(os_error_line(e), 2)  # the folder the user named
    print_sweep(report)
    return 1 if report.failed else 0


def _interrupted(session: Session, e: KeyboardInterrupt) -> int:
    """Ctrl-C or SIGTERM: one line, and for a sweep the tables of the points that finished."""
    status = stop_status(e)
    how = "terminated" if status != 130 else "interrupted"
    if sys.stderr.isatty():
        sys.stderr.write("\n")  # end a progress bar's line
    folder = session.folder
    if not session.multirun or folder is None:
        _remove_unfinished(session)
        kept = session.done and folder is not None
        print(f"cssim: {how}; {'results kept in ' + str(folder) if kept else 'no results written'}", file=sys.stderr)
        return status
    root = Path(folder).resolve()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # aggregating takes a second: let it finish
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    from cssim.sweep import aggregate

    try:
        report = aggregate(root)
    except ValueError:
        _remove_unfinished(session)
        print(f"cssim: {how} before any sweep point finished; no results written", file=sys.stderr)
        return status
    except OSError as e:
        print(f"cssim: {how}; aggregating the finished points failed: {os_error_line(e)}", file=sys.stderr)
        return status
    n, done = len(report.points) + len(report.failed), len(report.points)
    print(
        f"cssim: {how}: {done} of {n} sweep points finished and are aggregated in {root} "
        f"(the rest are marked not run in failed_points.csv); to rebuild the tables later: cssim aggregate {root}",
        file=sys.stderr,
    )
    return status


_CHOICES = {
    "dist": DISTRIBUTIONS, "policy": POLICIES, "turns_dist": TURN_DISTS, "kind": DELAY_EFFECTS,
}


def _type_name(t) -> str:
    origin, args = typing.get_origin(t), typing.get_args(t)
    if origin is typing.Union and type(None) in args:
        return " or ".join(_type_name(a) for a in args if a is not type(None)) + " or null"
    if origin in (list, typing.List):
        inner = args[0] if args else typing.Any
        if dataclasses.is_dataclass(inner):
            return "list of {" + ", ".join(f.name for f in dataclasses.fields(inner)) + "}"
        return f"list of {_type_name(inner)}"
    return getattr(t, "__name__", str(t))


def _value_text(v) -> str:
    if dataclasses.is_dataclass(v):
        return "{" + ", ".join(f"{f.name}: {_value_text(getattr(v, f.name))}" for f in dataclasses.fields(v)) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(_value_text(x) for x in v) + "]"
    if v is None:
        return "null"
    if isinstance(v, bool):
        return str(v).lower()
    return str(v)


def describe_keys(cfg: Config) -> list[str]:
    """Every key of the schema as ``dotted.key: type = value`` (values from ``cfg``)."""
    from cssim.profiles import PROFILES

    lines = []

    def walk(obj, prefix: str) -> None:
        hints = typing.get_type_hints(type(obj))
        for f in dataclasses.fields(obj):
            key, value, t = f"{prefix}{f.name}", getattr(obj, f.name), hints[f.name]
            if dataclasses.is_dataclass(t):
                walk(value, key + ".")
                continue
            choices = PROFILES if key == "arrivals.profile" else _CHOICES.get(f.name) if t is str else None
            note = f"  (one of {', '.join(choices)})" if choices else ""
            lines.append(f"  {key}: {_type_name(t)} = {_value_text(value)}{note}")

    walk(cfg, "")
    return lines


def help_text(argv: list[str], command: str = "run") -> str:
    """``cssim run --help``: usage, the scenarios, and every key with its type and its value in
    the scenario the other arguments pick."""
    overrides = [a for i, a in enumerate(argv) if i in _override_positions(argv) and a.split("=", 1)[0] not in _HELP_FLAGS]
    overrides = [o for o in overrides if not o.lstrip("+~").startswith("hydra") or o.startswith("hydra.searchpath")]
    problem, cfg = _check([c for c in expand_sweep(overrides)[0]] if overrides else [])
    if problem:
        _error(problem)
    usage = {
        "run": ["usage: cssim [run] [key=value ...]", "",
                f"Simulate a scenario (default: {DEFAULT_SCENARIO}): its KPI table with 95% CIs, and a run",
                "folder outputs/NAME/TIME/ with metrics.json and intervals.csv.", "",
                "  cssim scenario=NAME|path/to/file.yaml  another scenario, or your own file (same keys)",
                "  cssim hydra.run.dir=DIR                write into DIR (refused if it holds results)",
                "  cssim --cfg job                        the composed config, nothing run (hydra's flags: --hydra-help)"],
        "sweep": ["usage: cssim sweep key=a,b,c [key2=x,y ...]   (the same as cssim -m ...)", "",
                  "Every combination of the listed values, each point a run; then points.csv, runs.csv and",
                  "charts at the sweep folder multirun/NAME/TIME/.", "",
                  "  cssim sweep ... hydra/launcher=parallel  the points in 2 local processes (or ray, slurm)",
                  "  cssim sweep ... hydra.sweep.dir=DIR      write into DIR (refused if it holds a sweep)"],
    }[command]
    return "\n".join([
        *usage,
        "",
        f"Scenarios: {', '.join(scenario_names())}",
        "",
        f"Keys of {cfg.name} (key: type = value); override any with key=value:",
        *describe_keys(cfg),
    ])


def top_help() -> str:
    """``cssim --help``: the subcommands, one line each."""
    width = max(*map(len, COMMANDS), len("-h, --help"))
    return "\n".join([
        "usage: cssim [COMMAND] [key=value | option ...]",
        "",
        "cssim: simulate customer-service chat staffing through a sales peak.",
        "",
        "commands:",
        *(f"  {name:<{width}}  {text}" for name, text in COMMANDS.items()),
        "",
        "options:",
        f"  {'-h, --help':<{width}}  this help; cssim COMMAND --help lists a command's keys or options, with types and defaults",
        f"  {'--version':<{width}}  cssim's version",
        "",
        "Without a command, cssim runs: cssim scenario=small_shop_618 replications=5",
        f"Scenarios: {', '.join(scenario_names())}",
        "Docs: docs/index.md (mkdocs serve)",
    ])


def main(argv: list[str] | None = None) -> None:
    """Console entry point: route to the subcommand, exit with its status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    handle_term()
    try:
        sys.exit(_dispatch(argv))
    except BrokenPipeError:  # e.g. cssim --help | head: the reader has gone, say nothing more
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)


def _other_command(name: str, args: list[str]) -> int:
    """plan, calibrate, report, aggregate: each parsed here, run in its own module (loaded only
    once the arguments are good: --help and a refusal stay fast)."""
    from cssim.commands import calibrate_parser, report_parser

    try:
        if name == "aggregate":
            return _aggregate_command(args)
        if name == "calibrate":
            ns = calibrate_parser().parse_args(args)
            from cssim.calibrate.command import run

            return run(ns)
        if name == "report":
            ns = report_parser().parse_args(args)
            from cssim.report import run_report

            return run_report(ns)
        from cssim.plan.command import main as plan_command

        return plan_command(args)
    except KeyboardInterrupt as e:
        if sys.stderr.isatty():
            sys.stderr.write("\n")
        how = "terminated" if stop_status(e) != 130 else "interrupted"
        print(f"cssim: {how}; no results written", file=sys.stderr)
        return stop_status(e)


def _dispatch(argv: list[str]) -> int:
    if argv and argv[0] in ("-h", "--help") and len(argv) == 1:
        print(top_help())
        return 0
    if argv[:1] == ["--version"]:
        print(f"cssim {__version__}")
        return 0
    if argv and argv[0] in COMMANDS and argv[0] not in ("run", "sweep"):
        return _other_command(argv[0], argv[1:])
    command = "run"
    if argv and argv[0] in ("run", "sweep"):
        command, argv = argv[0], argv[1:]
        if command == "sweep" and not any(a in ("-m", "--multirun") for a in argv):
            argv = ["-m", *argv]
    if any(a in ("-m", "--multirun") for a in argv) or "hydra.mode=MULTIRUN" in argv:
        command = "sweep"
    if argv and argv[0].startswith("-") and argv[0] not in ("-m", "--multirun", *_HELP_FLAGS, *_HYDRA_INFO_FLAGS, *_HYDRA_VALUED_FLAGS):
        _error(f"unknown option {argv[0]!r} (see cssim --help)")
    if argv and not argv[0].startswith(("-", "~", "+")) and "=" not in argv[0]:  # a mistyped command
        _error(f"{argv[0]!r}: no such command (one of {', '.join(COMMANDS)}) and not key=value (see cssim --help)")
    return run_command(argv, command)


def hydra_choice_problem(argv: list[str]) -> str | None:
    """A ``hydra/GROUP=CHOICE`` override (a launcher, a sweeper) naming no config hydra has:
    the group and its choices, as one line."""
    groups = [a.lstrip("+~").partition("=") for a in argv if a.lstrip("+~").startswith("hydra/") and "=" in a]
    if not groups:
        return None
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3", job_name="cssim"):
        loader = GlobalHydra.instance().config_loader()
        for group, _, choice in groups:
            options = loader.get_group_options(group)
            if not options:
                return f"{group}={choice}: no such config group"
            if choice not in options:
                return f"{group}={choice}: no such choice; one of {', '.join(options)}"
    return None


def run_command(argv: list[str], command: str = "run") -> int:
    """``cssim [run|sweep] ARGS``: a run or a sweep through hydra; returns the exit status."""
    session = Session(multirun=command == "sweep")
    try:
        return _run(argv, session)
    except KeyboardInterrupt as e:
        return _interrupted(session, e)
    finally:
        release_folder(session.claim)


def _run(argv: list[str], session: Session) -> int:
    multirun = session.multirun
    register()
    try:
        argv = prepare_argv(argv)
    except ValueError as e:
        _error(str(e))
    if any(a in _HELP_FLAGS for a in argv):
        print(help_text(argv, "sweep" if multirun else "run"))
        return 0
    overrides = _user_overrides(argv)
    if overrides is not None:  # a run or a sweep (not hydra's --cfg, --info, ...)
        problem, cfg = _check(overrides)
        problem = problem or launcher_problem(argv) or hydra_choice_problem(argv)
        if problem:
            _error(problem)
        argv = _make_folder(argv, session, cfg, overrides)
        os.environ["CSSIM_MAIN_PID"] = str(os.getpid())  # sweep workers watch for its death
    sys.argv = [sys.argv[0], *argv]
    prepare_cli_env(argv)
    # Our launcher preset ray.yaml shares its name with hydra-ray-launcher's schema; hydra then
    # checks the file against the schema and says so on every run.
    warnings.filterwarnings("ignore", message=r"\s*'hydra/launcher/\w+' is validated against ConfigStore schema")

    def job(cfg: DictConfig) -> None:
        _job(cfg, session)

    app = hydra.main(version_base="1.3", config_path=str(config_dir()), config_name="config")(job)
    debugging = os.environ.get("HYDRA_FULL_ERROR") == "1"
    # Hydra prints a traceback for an error in its own work (e.g. writing .hydra/config.yaml on
    # a full disk); asked for the full error it raises it instead, and we say it in one line.
    os.environ["HYDRA_FULL_ERROR"] = "1"
    try:
        app()
    except Exception as e:
        if debugging:
            raise
        _remove_unfinished(session)
        if isinstance(e, OSError):
            _error(os_error_line(e), 2 if session.user_given else 1)
        _error(one_line(e), 1)
    finally:
        if not multirun:
            _remove_unfinished(session)
    if multirun and session.folder is not None and overrides is not None:
        aggregate_sweep(Path(session.folder).resolve(), session)
    if session.failed:
        return session.status
    return 0


if __name__ == "__main__":
    main()
