"""Hydra wiring: the schema and the named scenarios in hydra's ConfigStore, and composition.

The dataclass schema (:class:`cssim.config.Config`) is stored as ``cssim_schema``; every YAML in
``scenarios/`` is stored in the ``scenario`` group (package ``_global_``), so ``scenario=NAME``
picks one from the command line or the API and anything unknown or mistyped is refused while
composing, however it is spelt (``key=``, ``+key=``, ``++key=``, ``~key``).

Own scenarios: ``scenario=path/to/file.yaml`` (command line or :func:`cssim.load_scenario`), or
``scenario=NAME`` with ``scenario/NAME.yaml`` under a folder added with
``hydra.searchpath=[file:///that/folder]``. Either way the file is read and checked against the
schema first, so an error inside it names the file, the line, the key and the problem; it needs
no ``# @package`` header, and without a ``name:`` it is named after the file.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import re
from pathlib import Path
from typing import Sequence

import yaml
from hydra.core.config_store import ConfigStore
from omegaconf import DictConfig, ListConfig, OmegaConf
from omegaconf.errors import ConfigAttributeError, ConfigKeyError, OmegaConfBaseException

from cssim.config import Config, ConfigError, validate
from cssim.paths import config_dir, scenario_dir

_registered = False
_FILE_PREFIX = "file_"
#: Scenario files stored in the ConfigStore: generated name -> the file.
_FILES: dict[str, Path] = {}
# YAML's spellings of infinity (.inf, -.Inf, +.INF), which hydra's override grammar reads as text.
_DOT_INF = re.compile(r"(?<![\w.])([+-]?)\.inf\b", re.IGNORECASE)


def register() -> None:
    """Put the schema and the shipped scenarios into hydra's ConfigStore (once)."""
    global _registered
    if _registered:
        return
    cs = ConfigStore.instance()
    cs.store(name="cssim_schema", node=Config)
    for path in sorted(scenario_dir().glob("*.yaml")):
        cs.store(group="scenario", name=path.stem, node=OmegaConf.load(path), package="_global_")
    _registered = True


def scenario_names() -> list[str]:
    """The shipped scenarios' names."""
    return sorted(p.stem for p in scenario_dir().glob("*.yaml"))


def _yaml_line(text: str, key: str) -> int | None:
    """The line (1-based) where dotted ``key`` (``staffing.ft.shifts[0].end_h``) is set in the
    YAML ``text``, or None."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None
    line = None
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", key):
        if part.startswith("[") and isinstance(node, yaml.SequenceNode):
            i = int(part[1:-1])
            if i >= len(node.value):
                return line
            node = node.value[i]
            line = node.start_mark.line + 1
        elif isinstance(node, yaml.MappingNode):
            hit = next(((k, v) for k, v in node.value if getattr(k, "value", None) == part), None)
            if hit is None:
                return line
            line, node = hit[0].start_mark.line + 1, hit[1]
        else:
            return line
    return line


def _in_file(path: Path, key: str, message: str) -> str:
    """``message`` prefixed with the scenario file and, when found, the line setting ``key``."""
    try:
        line = _yaml_line(path.read_text(), key)
    except OSError:
        line = None
    return f"scenario file {str(path)!r}" + (f", line {line}" if line else "") + f": {message}"


def _schema_problem(node: DictConfig) -> tuple[str, str] | None:
    """(key, problem) for the first key of a scenario that the schema refuses, else None."""
    node = OmegaConf.masked_copy(node, [k for k in node.keys() if k != "defaults"])
    try:
        OmegaConf.merge(OmegaConf.structured(Config), node)
    except OmegaConfBaseException as e:
        key = getattr(e, "full_key", None) or "config"
        detail = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        if isinstance(e, (ConfigAttributeError, ConfigKeyError)):
            detail = f"unknown key ({detail})"
        return key, detail
    return None


def register_file_scenario(path: Path | str) -> str:
    """Read a scenario YAML file, check it against the schema, store it in hydra's ConfigStore
    under a generated name and return that name (``scenario=<name>`` then composes it).

    Raises ``ValueError`` with one line naming the file, the line, the key and the problem:
    a missing file, a YAML syntax error, an unknown key or a value of the wrong type."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise ValueError(f"scenario={str(path)!r}: no such scenario file")
    try:
        text = path.read_text()
        data = yaml.load(text, Loader=_omegaconf_loader())
        if data is None:  # an empty file (or only comments): OmegaConf would make a None node
            raise ValueError(f"scenario file {str(path)!r}: is empty; it needs the keys it changes (like scenarios/erlang_a.yaml)")
        node = OmegaConf.create(data)
    except OSError as e:
        raise ValueError(f"scenario file {str(path)!r}: cannot read it ({e.strerror})") from None
    except yaml.YAMLError as e:  # a syntax error: where the parser stopped, on one line
        mark = getattr(e, "problem_mark", None)
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        what = " ".join(str(getattr(e, "problem", None) or e).split())
        raise ValueError(f"scenario file {str(path)!r}{where}: not valid YAML ({what})") from None
    if not isinstance(node, DictConfig):
        raise ValueError(f"scenario file {str(path)!r}: must be a mapping of keys (like scenarios/erlang_a.yaml)")
    problem = _schema_problem(node)
    if problem:
        raise ValueError(_in_file(path, problem[0], f"{problem[0]}: {problem[1]}"))
    if "name" not in node:
        node.name = path.stem
    stem = re.sub(r"[^A-Za-z0-9_]+", "_", path.stem)
    name = f"{_FILE_PREFIX}{stem}_" + hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:8]
    register()
    ConfigStore.instance().store(group="scenario", name=name, node=node, package="_global_")
    _FILES[name] = path
    return name


def _omegaconf_loader():
    """OmegaConf's YAML loader (it reads 1e3 as a float, as OmegaConf.load does)."""
    from omegaconf._utils import get_yaml_loader

    return get_yaml_loader()


def _searchpath(overrides: Sequence[str]) -> list[Path]:
    """The local folders of ``hydra.searchpath=[file://...]`` overrides."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    dirs = []
    for o in overrides:
        if o.split("=", 1)[0].lstrip("+~") != "hydra.searchpath":
            continue
        try:
            value = OverridesParser.create().parse_override(o).value()
        except Exception:
            continue
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str) and item.startswith("file://"):
                dirs.append(Path(item[len("file://"):]))
    return dirs


def resolve_scenario(value: str, searchpath: Sequence[Path] = ()) -> str:
    """The ConfigStore name for ``scenario=value``: a shipped name as it is; a path (``.yaml``,
    ``.yml`` or a ``/`` in it) or ``NAME`` found as ``DIR/scenario/NAME.yaml`` in a search-path
    folder is read, checked and stored (see :func:`register_file_scenario`)."""
    register()
    if value in _FILES or value in scenario_names():
        return value
    if value.endswith((".yaml", ".yml")) or "/" in value:
        return register_file_scenario(Path(value))
    for d in searchpath:
        for ext in (".yaml", ".yml"):
            if (d / "scenario" / f"{value}{ext}").is_file():
                return register_file_scenario(d / "scenario" / f"{value}{ext}")
    if searchpath:
        looked = ", ".join(str(d / "scenario" / f"{value}.yaml") for d in searchpath)
        raise ValueError(f"scenario={value}: no such scenario (shipped: {', '.join(scenario_names())}; no file {looked})")
    return value


def prepare_overrides(overrides: Sequence[str]) -> list[str]:
    """Overrides as hydra should see them: ``.inf`` spelt ``inf``, and ``scenario=`` values that
    are files (or found on ``hydra.searchpath``) replaced by their ConfigStore names."""
    searchpath = _searchpath(overrides)
    out = []
    for o in overrides:
        key, eq, value = o.partition("=")
        if eq:
            value = _DOT_INF.sub(r"\1inf", value)
            if key.lstrip("+~") == "scenario" and value and "(" not in value:
                value = ",".join(resolve_scenario(v.strip(), searchpath) for v in value.split(","))
            o = f"{key}={value}"
        out.append(o)
    return out


def _scenario_file(overrides: Sequence[str]) -> Path | None:
    """The user's scenario file a (prepared, single-run) override list composes, if any."""
    for o in overrides:
        key, _, value = o.partition("=")
        if key.lstrip("+~") == "scenario" and value in _FILES:
            return _FILES[value]
    return None


def _overridden(key: str, overrides: Sequence[str]) -> bool:
    """Whether an override sets ``key`` (or a node above it)."""
    base = key.split("[", 1)[0]
    for o in overrides:
        k = o.split("=", 1)[0].lstrip("+~")
        if k in (key, base) or key.startswith(k + ".") or key.startswith(k + "["):
            return True
    return False


def one_line(e: BaseException, overrides: Sequence[str] = ()) -> str:
    """An exception's message on one line, naming the key and value, without hydra's and
    OmegaConf's context blocks."""
    msg = str(e).strip()
    first = msg.splitlines()[0].strip() if msg else type(e).__name__
    missing = re.search(r"Could not find '([^'/]+)/([^']+)'", msg)
    if missing:
        options = re.search(r"Available options in '[^']+':\s*(.*?)\s*Config search path", msg, re.S)
        avail = ", ".join(o for o in options.group(1).split() if not o.startswith(_FILE_PREFIX)) if options else "none"
        return f"{missing.group(1)}={missing.group(2)}: no such {missing.group(1)} (available: {avail})"
    gone = re.search(r"Could not delete from config\. '([^']+)' does not exist", msg)
    if gone:
        return f"~{gone.group(1)}: unknown key (nothing to delete)"
    cause = e.__cause__ if isinstance(e.__cause__, OmegaConfBaseException) else e
    if isinstance(cause, OmegaConfBaseException):
        detail = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
        if isinstance(cause, (ConfigAttributeError, ConfigKeyError)):
            detail = f"unknown key ({detail})"
        found = re.search(r"override '([^']+)'", msg) or re.search(r"override (\S+)$", first)
        where = found.group(1) if found and cause is not e else getattr(cause, "full_key", None) or "config"
        if "=" not in where:  # hydra named only the key: show the override as the user wrote it
            where = next((o for o in overrides if o.lstrip("+~").split("=", 1)[0] == where), where)
        return f"{where}: {detail}"
    return " ".join(ln.strip() for ln in msg.splitlines() if ln.strip()) or type(e).__name__


def _unknown_key(node: DictConfig | ListConfig, prefix: str = "") -> str | None:
    """The first key in a composed config that its schema dataclass does not have (keys added
    with ``+key=``/``++key=`` slip past hydra's struct check), else None."""
    if isinstance(node, ListConfig):
        for i in range(len(node)):
            child = node._get_node(i)
            if isinstance(child, (DictConfig, ListConfig)) and not child._is_none():
                found = _unknown_key(child, f"{prefix}[{i}]")
                if found:
                    return found
        return None
    t = OmegaConf.get_type(node)
    allowed = {f.name for f in dataclasses.fields(t)} if dataclasses.is_dataclass(t) else None
    for k in node.keys():
        full = f"{prefix}.{k}" if prefix else str(k)
        if allowed is not None and k not in allowed:
            return full
        child = node._get_node(k)
        if isinstance(child, (DictConfig, ListConfig)) and not child._is_none():
            found = _unknown_key(child, full)
            if found:
                return found
    return None


def to_config(cfg: DictConfig) -> Config:
    """A composed DictConfig as the validated dataclass tree the engine reads."""
    cfg = OmegaConf.masked_copy(cfg, [k for k in cfg.keys() if k != "hydra"]) if "hydra" in cfg else cfg
    unknown = _unknown_key(cfg)
    if unknown:
        raise ConfigError(f"{unknown}: unknown key (not in the cssim schema)", unknown)
    try:
        obj = OmegaConf.to_object(cfg)
    except OmegaConfBaseException as e:
        raise ValueError(one_line(e)) from None
    if not isinstance(obj, Config):
        raise ValueError("config: not a cssim scenario (missing the cssim_schema defaults)")
    return validate(obj)


def compose_config(overrides: Sequence[str]) -> Config:
    """Compose ``configs/config.yaml`` with hydra overrides and validate it. A bad value that
    comes from a user's scenario file (not from an override) is reported with the file and line."""
    from hydra import compose, initialize_config_dir
    from hydra.errors import HydraException

    register()
    given = list(overrides)
    overrides = prepare_overrides(given)
    try:
        with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3", job_name="cssim"):
            cfg = compose("config", overrides=overrides)
    except (HydraException, OmegaConfBaseException) as e:
        raise ValueError(one_line(e, given)) from None
    try:
        return to_config(cfg)
    except ConfigError as e:
        shown = next((o for o in given if o.split("=", 1)[0].lstrip("+~") == e.key), None)
        if shown is not None and str(e).startswith(e.key + ": "):  # say it as the user wrote it
            raise ValueError(shown + str(e)[len(e.key):]) from None
        path = _scenario_file(overrides)
        if path is not None and not _overridden(e.key, overrides):
            raise ValueError(_in_file(path, e.key, str(e))) from None
        raise ValueError(str(e)) from None


def expand_sweep(overrides: list[str]) -> list[list[str]]:
    """Every combination of a sweep's overrides (``k=1,2 j=a,b`` gives four lists), in
    hydra's basic-sweeper order."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parsed = OverridesParser.create().parse_overrides(overrides)
    choices = []
    for o in parsed:
        key = o.get_key_element()
        if o.is_sweep_override():
            choices.append([f"{key}={v}" for v in o.sweep_string_iterator()])
        else:
            choices.append([o.input_line])
    return [list(c) for c in itertools.product(*choices)]
