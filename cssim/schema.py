"""Hydra wiring: the schema and the named scenarios in hydra's ConfigStore, and composition.

The dataclass schema (:class:`cssim.config.Config`) is stored as ``cssim_schema``; every YAML in
``scenarios/`` is stored in the ``scenario`` group (package ``_global_``), so ``scenario=NAME``
picks one from the command line or the API and anything unknown or mistyped is refused while
composing. Own scenarios: pass a YAML path to :func:`cssim.load_scenario`, or put
``scenario/NAME.yaml`` under a folder added with ``hydra.searchpath=[file:///that/folder]``.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Sequence

from hydra.core.config_store import ConfigStore
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import ConfigAttributeError, ConfigKeyError, OmegaConfBaseException

from cssim.config import Config, validate
from cssim.paths import config_dir, scenario_dir

_registered = False


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


def register_file_scenario(path: Path) -> str:
    """Store a scenario YAML file under a generated name and return that name."""
    if not path.is_file():
        raise ValueError(f"scenario={str(path)!r}: no such scenario file")
    try:
        node = OmegaConf.load(path)
    except Exception as e:  # a YAML syntax error: say where, in one line
        raise ValueError(f"scenario={str(path)!r}: cannot read it ({one_line(e)})") from None
    name = "file_" + hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:12]
    register()
    ConfigStore.instance().store(group="scenario", name=name, node=node, package="_global_")
    return name


def one_line(e: BaseException, overrides: Sequence[str] = ()) -> str:
    """An exception's message on one line, naming the key and value, without hydra's and
    OmegaConf's context blocks."""
    msg = str(e).strip()
    first = msg.splitlines()[0].strip() if msg else type(e).__name__
    missing = re.search(r"Could not find '([^'/]+)/([^']+)'", msg)
    if missing:
        options = re.search(r"Available options in '[^']+':\s*(.*?)\s*Config search path", msg, re.S)
        avail = ", ".join(options.group(1).split()) if options else "none"
        return f"{missing.group(1)}={missing.group(2)}: no such {missing.group(1)} (available: {avail})"
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


def to_config(cfg: DictConfig) -> Config:
    """A composed DictConfig as the validated dataclass tree the engine reads."""
    cfg = OmegaConf.masked_copy(cfg, [k for k in cfg.keys() if k != "hydra"]) if "hydra" in cfg else cfg
    try:
        obj = OmegaConf.to_object(cfg)
    except OmegaConfBaseException as e:
        raise ValueError(one_line(e)) from None
    if not isinstance(obj, Config):
        raise ValueError("config: not a cssim scenario (missing the cssim_schema defaults)")
    return validate(obj)


def compose_config(overrides: Sequence[str]) -> Config:
    """Compose ``configs/config.yaml`` with hydra overrides and validate it."""
    from hydra import compose, initialize_config_dir
    from hydra.errors import HydraException

    register()
    try:
        with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3", job_name="cssim"):
            cfg = compose("config", overrides=list(overrides))
    except (HydraException, OmegaConfBaseException) as e:
        raise ValueError(one_line(e, overrides)) from None
    return to_config(cfg)
