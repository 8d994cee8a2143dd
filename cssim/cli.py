"""The ``cssim`` command: a hydra app around :func:`cssim.simulate`.

    cssim                                   # default scenario, KPI table, run folder
    cssim scenario=erlang_a replications=10
    cssim scenario=path/to/my_shop.yaml     # your own scenario file
    cssim -m staffing.temps.count=0,500,1000 replications=5          # sweep: tables + charts
    cssim -m staffing.temps.count=0,500 hydra/launcher=parallel      # same, 2 local processes
    cssim aggregate multirun/semir_double11_2016/2026-11-23_10-00-00.000-9f3a  # re-aggregate
    cssim calibrate chats.csv --base small_shop_618 --backtest  # fit a scenario to a chat log
    cssim report multirun/semir_double11_2016/2026-11-23_10-00-00.000-9f3a     # report.html to forward
    cssim plan scenario=small_shop_618 plan.pools=[ft]               # cheapest roster (cssim.plan)

What a user can rely on:

* Bad input never starts a run: every argument (every point of a sweep) is composed and
  validated first, and a problem prints one line naming the key and the value, exit status 2,
  with nothing written.
* Every run and sweep gets a new folder of its own (:func:`cssim.io.unique_run_dir`), even when
  several start at the same instant; result files appear whole or not at all.
* A single run that fails or is interrupted (Ctrl-C: exit 130) prints one line and leaves no run
  folder behind. A sweep point that fails is reported, the others are kept and aggregated, and
  the exit status is 1; Ctrl-C stops a sweep, aggregates the points that finished (the rest are
  marked not run) and exits 130; ``kill -9`` of a parallel sweep takes its workers with it.
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
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.experimental.callback import Callback
from hydra.types import RunMode
from omegaconf import DictConfig

from cssim.config import DELAY_EFFECTS, DISTRIBUTIONS, POLICIES, TURN_DISTS, Config
from cssim.cluster import launcher_problem, prepare_cli_env
from cssim.io import os_error_line, unique_run_dir, write_atomic
from cssim.paths import DEFAULT_SCENARIO, config_dir
from cssim.schema import compose_config, expand_sweep, one_line, prepare_overrides, register, scenario_names, to_config

# The engine (cssim.runner) and the sweep tables and charts (cssim.sweep: pandas, matplotlib)
# are imported where a job runs or a sweep is aggregated, not here: --help and a refused
# argument answer without them (tests/test_startup.py keeps it so).

# What the hydra job tells main(): whether a sweep point or the single run failed, and how.
_STATUS: dict = {"failed": False, "status": 1, "done": False}
# The folder main() made for this run or sweep, and whether the user named it.
_RUN: dict = {"folder": None, "created": False, "user_given": False}
_HELP_FLAGS = ("--help", "-h")
_HYDRA_INFO_FLAGS = ("--hydra-help", "--info", "-i", "--cfg", "-c", "--shell-completion", "-sc", "--version")
_HYDRA_VALUED_FLAGS = ("-cn", "--config-name", "-cp", "--config-path", "-cd", "--config-dir", "--package", "-p")
INTERRUPTED = 130  # 128 + SIGINT, what a shell reports for Ctrl-C


def _error(msg: str, status: int = 2) -> None:
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


def _given(argv: list[str], key: str) -> str | None:
    for a in argv:
        k, eq, v = a.partition("=")
        if eq and k.lstrip("+") == key:
            return v
    return None


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in name) or "scenario"


def _make_folder(argv: list[str], multirun: bool, cfg: Config) -> list[str]:
    """Make this command's run or sweep folder before hydra starts, and tell hydra to use it:
    a new one from :func:`unique_run_dir`, or the folder the user named (which must not hold
    another run's results). Exits with one line if it cannot be made."""
    key = "hydra.sweep.dir" if multirun else "hydra.run.dir"
    given = _given(argv, key)
    if given is not None:
        _RUN.update(user_given=True)
        if "${" in given:  # an interpolation: hydra resolves it
            return argv
        folder = Path(given)
        marker = "multirun.yaml" if multirun else "metrics.json"
        if (folder / marker).exists():
            _error(f"{key}={given}: already holds the results of another {'sweep' if multirun else 'run'}; name a new folder")
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            _error(f"{key}={given}: cannot make the folder: {os_error_line(e)}", 2)
        _RUN.update(folder=folder)
        if multirun:  # absolute, as below
            return [f"{key}={folder.resolve()}" if a.partition("=")[0].lstrip("+") == key else a for a in argv]
        return argv
    root = Path("multirun" if multirun else "outputs") / _safe(cfg.name)
    try:
        folder = unique_run_dir(root)
    except OSError as e:
        _error(f"cannot make the {'sweep' if multirun else 'run'} folder in {root}: {os_error_line(e)}", 1)
    _RUN.update(folder=folder, created=True)
    # A sweep's folder goes to hydra absolute: Ray and SLURM workers start in other folders
    # and must write their points into this one.
    return [*argv, f"{key}={folder.resolve() if multirun else folder}"]


def _remove_unfinished(multirun: bool) -> None:
    """A run that did not finish, or a sweep that stopped before any point finished, leaves
    nothing: its folder goes (only a folder cssim made, never one the user named)."""
    folder = _RUN["folder"]
    if not _RUN["created"] or folder is None or not Path(folder).exists():
        return
    finished = any(Path(folder).glob("*/metrics.json")) if multirun else _STATUS["done"]
    if not finished:
        shutil.rmtree(folder, ignore_errors=True)


# --- parallel sweep workers -----------------------------------------------------------------

_WATCHING: dict = {"pid": None}


def _watch_parent() -> None:
    """In a sweep worker process (joblib/loky): exit as soon as the process that started it
    dies. A worker busy with a long job would otherwise run on for minutes after ``kill -9`` of
    ``cssim``. Ctrl-C is left to the main process, which stops the workers itself."""
    main_pid = os.environ.get("CSSIM_MAIN_PID")
    if not main_pid or int(main_pid) == os.getpid() or _WATCHING["pid"] == os.getpid():
        return
    _WATCHING["pid"] = os.getpid()
    parent = os.getppid()
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the worker's main thread: Ctrl-C then interrupts the job itself
        pass

    def watch() -> None:
        while os.getppid() == parent:  # an orphan is re-parented (to init or a subreaper)
            time.sleep(0.2)
        os._exit(1)

    threading.Thread(target=watch, name="cssim-parent-watch", daemon=True).start()


# --- hydra's side ---------------------------------------------------------------------------


class AggregateCallback(Callback):
    """After all sweep jobs (whatever launcher ran them): tables and charts at the sweep root."""

    def on_multirun_end(self, config: DictConfig, **kwargs) -> None:
        from cssim.sweep import aggregate

        root = Path(config.hydra.sweep.dir)
        try:
            report = aggregate(root)
        except Exception as e:
            _STATUS["failed"] = True
            reason = os_error_line(e) if isinstance(e, OSError) else one_line(e)
            print(f"cssim: error: aggregating {root} failed: {reason}", file=sys.stderr)
            return
        print_sweep(report)
        if report.failed:
            _STATUS["failed"] = True


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


def _job(cfg: DictConfig) -> None:
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
        _STATUS["failed"] = True
        if not multirun:
            _STATUS["status"] = 2 if isinstance(e, OSError) and _RUN["user_given"] else 1
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
        _STATUS["done"] = True
        print(kpi_table(config, results))
        print(f"results: {out / 'metrics.json'}, {out / 'intervals.csv'}")
        if config.log:
            print(f"chat log: {out / 'chats.parquet'}, {out / 'chats.csv'} ({len(results)} day(s))")


# --- commands -------------------------------------------------------------------------------


def _aggregate_command(args: list[str]) -> int:
    if len(args) != 1 or args[0].startswith("-"):
        _error("usage: cssim aggregate SWEEP_FOLDER")
    from cssim.sweep import aggregate

    try:
        report = aggregate(Path(args[0]))
    except ValueError as e:
        _error(str(e))
    except OSError as e:
        _error(os_error_line(e), 2)  # the folder the user named
    print_sweep(report)
    return 1 if report.failed else 0


def _interrupted(multirun: bool) -> int:
    """Ctrl-C: one line, and for a sweep the tables of the points that finished."""
    if sys.stderr.isatty():
        sys.stderr.write("\n")  # end a progress bar's line
    folder = _RUN["folder"]
    if not multirun or folder is None:
        _remove_unfinished(multirun)
        kept = _STATUS["done"] and folder is not None
        print(f"cssim: interrupted; {'results kept in ' + str(folder) if kept else 'no results written'}", file=sys.stderr)
        return INTERRUPTED
    root = Path(folder).resolve()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # aggregating takes a second: let it finish
    from cssim.sweep import aggregate

    try:
        report = aggregate(root)
    except ValueError:
        _remove_unfinished(multirun)
        print("cssim: interrupted before any sweep point finished; no results written", file=sys.stderr)
        return INTERRUPTED
    except OSError as e:
        print(f"cssim: interrupted; aggregating the finished points failed: {os_error_line(e)}", file=sys.stderr)
        return INTERRUPTED
    n, done = len(report.points) + len(report.failed), len(report.points)
    print(
        f"cssim: interrupted: {done} of {n} sweep points finished and are aggregated in {root} "
        f"(the rest are marked not run in failed_points.csv); to rebuild the tables later: cssim aggregate {root}",
        file=sys.stderr,
    )
    return INTERRUPTED


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


def help_text(argv: list[str]) -> str:
    """``cssim --help``: usage, the scenarios, and every key with its type and its value in the
    scenario the other arguments pick."""
    overrides = [a for i, a in enumerate(argv) if i in _override_positions(argv) and a.split("=", 1)[0] not in _HELP_FLAGS]
    overrides = [o for o in overrides if not o.lstrip("+~").startswith("hydra") or o.startswith("hydra.searchpath")]
    problem, cfg = _check([c for c in expand_sweep(overrides)[0]] if overrides else [])
    if problem:
        _error(problem)
    return "\n".join([
        "cssim: simulate customer-service chat staffing through a sales peak.",
        "",
        f"  cssim [key=value ...]                  run a scenario (default: {DEFAULT_SCENARIO}), print its KPI table",
        "  cssim scenario=NAME|path/to/file.yaml  another scenario, or your own file (same keys)",
        "  cssim -m key=a,b,c [key2=x,y] ...      a sweep: every combination, then tables and charts",
        "  cssim -m ... hydra/launcher=parallel   the same sweep in 2 local processes",
        "  cssim aggregate DIR                    rebuild a sweep's tables and charts from its folder",
        "  cssim calibrate LOG [--base SCENARIO] fit a scenario to a chat log (--help for its options)",
        "  cssim --hydra-help                     hydra's own options",
        "",
        f"Scenarios: {', '.join(scenario_names())}",
        "",
        f"Keys of {cfg.name} (key: type = value); override any with key=value:",
        *describe_keys(cfg),
    ])


def main() -> None:
    """Console entry point."""
    argv = sys.argv[1:]
    multirun = any(a in ("-m", "--multirun") for a in argv) or "hydra.mode=MULTIRUN" in argv
    try:
        sys.exit(_main(argv, multirun))
    except KeyboardInterrupt:
        sys.exit(_interrupted(multirun))
    except BrokenPipeError:  # e.g. cssim --help | head: the reader has gone, say nothing more
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)


def _main(argv: list[str], multirun: bool) -> int:
    if argv and argv[0] == "aggregate":
        return _aggregate_command(argv[1:])
    if argv and argv[0] == "calibrate":
        from cssim.calibrate.command import main as calibrate_main

        return calibrate_main(argv[1:])
    if argv and argv[0] == "report":
        from cssim.report import report_command

        return report_command(argv[1:])
    if argv and argv[0] == "plan":
        from cssim.plan.command import main as plan_command

        return plan_command(argv[1:])
    register()
    try:
        argv = prepare_argv(argv)
    except ValueError as e:
        _error(str(e))
    if any(a in _HELP_FLAGS for a in argv):
        print(help_text(argv))
        return 0
    overrides = _user_overrides(argv)
    if overrides is not None:  # a run or a sweep (not hydra's --cfg, --info, ...)
        problem, cfg = _check(overrides)
        problem = problem or launcher_problem(argv)
        if problem:
            _error(problem)
        argv = _make_folder(argv, multirun, cfg)
        os.environ["CSSIM_MAIN_PID"] = str(os.getpid())  # sweep workers watch for its death
    sys.argv = [sys.argv[0], *argv]
    prepare_cli_env(argv)
    # Our launcher preset ray.yaml shares its name with hydra-ray-launcher's schema; hydra then
    # checks the file against the schema and says so on every run.
    warnings.filterwarnings("ignore", message=r"\s*'hydra/launcher/\w+' is validated against ConfigStore schema")
    app = hydra.main(version_base="1.3", config_path=str(config_dir()), config_name="config")(_job)
    debugging = os.environ.get("HYDRA_FULL_ERROR") == "1"
    # Hydra prints a traceback for an error in its own work (e.g. writing .hydra/config.yaml on
    # a full disk); asked for the full error it raises it instead, and we say it in one line.
    os.environ["HYDRA_FULL_ERROR"] = "1"
    try:
        app()
    except Exception as e:
        if debugging:
            raise
        _remove_unfinished(multirun)
        if isinstance(e, OSError):
            _error(os_error_line(e), 2 if _RUN["user_given"] else 1)
        _error(one_line(e), 1)
    finally:
        if not multirun:
            _remove_unfinished(multirun)
    if _STATUS["failed"]:
        return _STATUS["status"]
    return 0


if __name__ == "__main__":
    main()
