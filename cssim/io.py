"""Result files and folders: nothing lost, nothing clobbered, nothing half-written.

* :func:`unique_run_dir` makes a new folder for a run, a sweep or a plan: its name starts with
  the time (so folders sort in the order they were made) and ends with a random suffix, and it
  is created with an exclusive ``mkdir``, so two runs started at the same instant never share one.
* :func:`write_atomic` writes a file to a temporary name in the same folder, then renames it
  into place, so a reader (or a crash, a kill, a full disk) never sees half a file. The file
  gets the usual permissions (``0666`` less the umask), not the temporary file's ``0600``.
* A failure names the result file, not the temporary one: ``OSError.filename`` is the path the
  caller asked for; :func:`os_error_line` puts it on one line for the command line.
"""

from __future__ import annotations

import errno
import json
import math
import os
import secrets
import tempfile
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # only for annotations: importing pandas costs ~0.4 s
    import pandas as pd

#: How a run folder's time stamp is written (sub-second, so folders sort in creation order).
STAMP_FORMAT = "%Y-%m-%d_%H-%M-%S"


def _clean(x: Any) -> Any:
    """JSON has no NaN: undefined numbers become null."""
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    return x


def unique_run_dir(root: Path | str, now: datetime | None = None) -> Path:
    """Create and return a new, empty folder ``root/<date>_<time>.<ms>-<4 hex>``, e.g.
    ``outputs/erlang_a/2026-11-23_15-00-00.123-9f3a``.

    The folder is made with an exclusive ``mkdir`` (it never existed before, whoever else is
    making folders in ``root`` at the same instant); ``root`` is created as needed. Raises
    ``OSError`` (with the folder as ``filename``) when it cannot be created.

    >>> import tempfile; d = unique_run_dir(tempfile.mkdtemp()); d.is_dir() and not any(d.iterdir())
    True
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    now = now or datetime.now()
    stamp = f"{now.strftime(STAMP_FORMAT)}.{now.microsecond // 1000:03d}"
    for _ in range(1000):
        folder = root / f"{stamp}-{secrets.token_hex(2)}"
        try:
            folder.mkdir()
        except FileExistsError:
            continue  # 1 in 65,536 for two folders made in the same millisecond: draw again
        return folder
    raise OSError(errno.EEXIST, "no unused folder name left", str(root))


def _umask() -> int:
    """The process's umask, read without changing it (Linux reports it in /proc)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # elsewhere: read it by setting it, and put it back at once
    os.umask(mask)
    return mask


def write_atomic(path: Path, write) -> None:
    """Call ``write(tmp_path)`` then move the file into place as ``path``, with mode
    ``0666 & ~umask``. On any failure the temporary file is removed, ``path`` is left as it
    was, and an ``OSError`` names ``path``."""
    path = Path(path)
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        os.close(fd)
        write(Path(tmp))
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600: a result file is for sharing
        os.replace(tmp, path)
    except BaseException as e:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        if isinstance(e, OSError) and e.errno is not None:
            # Name the file the caller asked for, not its temporary name.
            raise OSError(e.errno, e.strerror or os.strerror(e.errno), str(path)) from None
        raise


def os_error_line(e: OSError) -> str:
    """An OS error as one line naming the path: ``outputs/x/metrics.json: No space left on
    device (ENOSPC)``."""
    name = errno.errorcode.get(e.errno, "") if e.errno is not None else ""
    what = e.strerror or str(e) or type(e).__name__
    where = f"{e.filename}: " if e.filename else ""
    return f"{where}{what}" + (f" ({name})" if name else "")


def write_json(path: Path, data: Any) -> None:
    write_atomic(path, lambda p: p.write_text(json.dumps(_clean(data), indent=2, allow_nan=False) + "\n"))


def write_csv(path: Path, df: pd.DataFrame, index: bool = False) -> None:
    write_atomic(path, lambda p: df.to_csv(p, index=index))


def write_parquet(path: Path, df: pd.DataFrame) -> None:
    """The same table as :func:`write_csv`, as Parquet (pyarrow): column names and dtypes kept."""
    write_atomic(path, lambda p: df.to_parquet(p, index=False, engine="pyarrow"))


def write_png(path: Path, fig) -> None:
    write_atomic(path, lambda p: fig.savefig(p, format="png", dpi=110, bbox_inches="tight"))
