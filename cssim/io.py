"""Result files and folders: nothing lost, nothing clobbered, nothing half-written.

* :func:`unique_run_dir` makes a new folder for a run, a sweep or a plan: its name starts with
  the time (so folders sort in the order they were made) and ends with a random suffix, and it
  is created with an exclusive ``mkdir``, so two runs started at the same instant never share one.
* :func:`write_atomic` writes a file to a temporary name in the same folder, then renames it
  into place, so a reader (or a crash, a kill, a full disk) never sees half a file. The file
  gets the usual permissions (``0666`` less the umask), not the temporary file's ``0600``.
* :func:`claim_folder` takes a folder the user named for one command at a time: a marker file
  made with ``O_CREAT | O_EXCL``, so of two runs started together into one folder exactly one
  gets it. :func:`check_writable` tries a folder before any work is done, so a long plan or fit
  is not lost to a read-only folder at the end.
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


#: The marker a command holds in a folder it was told to write into (see :func:`claim_folder`).
CLAIM = ".cssim-claim"


class FolderTaken(Exception):
    """The folder is claimed by another cssim command (``pid`` is its process id, if known)."""

    def __init__(self, marker: Path, pid: str) -> None:
        super().__init__(f"{marker} is held by process {pid or '?'}")
        self.marker, self.pid = marker, pid


def claim_folder(folder: Path | str) -> Path:
    """Create ``folder`` if needed and claim it with an exclusive marker file holding this
    process's id; return the marker (remove it with :func:`release_folder`). Raises
    :class:`FolderTaken` when another command holds it, ``OSError`` when it cannot be made.

    >>> import tempfile; d = Path(tempfile.mkdtemp()); m = claim_folder(d)
    >>> try:
    ...     claim_folder(d)
    ... except FolderTaken:
    ...     print("taken")
    taken
    >>> release_folder(m); claim_folder(d).name
    '.cssim-claim'
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    marker = folder / CLAIM
    try:
        fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        try:
            pid = marker.read_text().strip()
        except OSError:
            pid = ""
        raise FolderTaken(marker, pid) from None
    with os.fdopen(fd, "w") as f:
        f.write(f"{os.getpid()}\n")
    return marker


def release_folder(marker: Path | None) -> None:
    """Remove a marker made by :func:`claim_folder` (nothing if it is gone)."""
    if marker is not None:
        Path(marker).unlink(missing_ok=True)


def check_writable(folder: Path | str) -> None:
    """Raise ``OSError`` naming ``folder`` unless a file can be created there (in its nearest
    existing parent when it does not exist yet). Nothing is left behind.

    >>> import tempfile; f = tempfile.mkstemp()[1]; check_writable(f + "/plans")
    Traceback (most recent call last):
    ...
    NotADirectoryError: [Errno 20] Not a directory: '.../plans'
    """
    folder = Path(folder)
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(folder))
    try:
        fd, tmp = tempfile.mkstemp(prefix=".cssim-probe.", dir=probe)
    except OSError as e:
        raise OSError(e.errno, e.strerror or os.strerror(e.errno or 0), str(folder)) from None
    os.close(fd)
    os.unlink(tmp)


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
