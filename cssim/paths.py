"""Where the packaged configs and scenarios live: beside the package when installed, at the
repository root in a git checkout (or an editable install)."""

from __future__ import annotations

from pathlib import Path

_PKG = Path(__file__).resolve().parent

#: The scenario ``cssim`` runs when none is named (``configs/config.yaml``'s default, checked by
#: ``tests/test_engine_identity.py``), and the default of every function that takes one.
DEFAULT_SCENARIO = "semir_double11_2016"


def _data_dir(name: str) -> Path:
    installed = _PKG / name
    return installed if installed.is_dir() else _PKG.parent / name


def config_dir() -> Path:
    """The hydra config folder (``configs/``)."""
    return _data_dir("configs")


def scenario_dir() -> Path:
    """The folder of named scenarios (``scenarios/``)."""
    return _data_dir("scenarios")
