"""The one way fsengine writes anything a reader may look at: files and whole folders are
written beside their final place and moved there in one atomic step.

- `write_file(path, data)`: a temporary sibling file, then one rename.
- `FolderWriter(final, ...)`: a staging sibling folder `.NAME.partial-PID-TOKEN`; `commit()`
  swaps it with `final` in one step (Linux: renameat2(RENAME_EXCHANGE); elsewhere, or on a
  file system without it, two renames whose gap `clean_stale` repairs), then removes the
  previous content. A reader of `final` sees the old folder or the new one, never a mix or
  nothing (on Linux).
- `clean_stale(final)`: removes the staging folders that earlier, dead fsengine processes
  left beside `final` (recognised by their name, which carries the writer's PID), and puts
  back a previous output that a kill between the two fallback renames left aside.

Permissions follow the umask, like any other tool (mkdtemp/mkstemp would create 0700/0600).
Disk full / file too large while writing become one OutputError naming the path.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import re
import secrets
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

from fsengine.errors import OutputError

_PARTIAL = "partial"
_OLD = "old"
_PARTS = "parts"  # worker processes' parts on their way to the writer
_FULL_DISK = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT}


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _sibling(final: Path, kind: str) -> Path:
    return final.parent / f".{final.name}.{kind}-{os.getpid()}-{secrets.token_hex(4)}"


def _stale_pattern(final: Path) -> re.Pattern:
    return re.compile(rf"^\.{re.escape(final.name)}\.({_PARTIAL}|{_OLD}|{_PARTS})-(\d+)-[0-9a-f]+$")


# Staging folders of fsengine before 0.x carried no PID: `.NAME.partial-XXXXXXXX` (mkdtemp) and
# `.NAME.old-PID`. They are removed once nothing has touched them for an hour.
LEGACY_AGE_SECONDS = 3600


def _legacy_pattern(final: Path) -> re.Pattern:
    return re.compile(rf"^\.{re.escape(final.name)}\.(partial-[a-z0-9_]{{8}}|old-\d+)$")


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def disk_error(exc: BaseException, path: Path) -> OutputError | None:
    """An OutputError for a full disk / too large file / exceeded quota, else None. pyarrow
    reports these as OSError whose text carries the errno, not always as errno."""
    code = getattr(exc, "errno", None)
    text = str(exc)
    for c in _FULL_DISK:
        if code == c or f"errno {c}]" in text.lower() or f"errno {c} " in text.lower() or os.strerror(c) in text:
            advice = {
                errno.EFBIG: "a file exceeded the file size limit (ulimit -f) or the file system's maximum",
                errno.ENOSPC: "no space left on the device",
                errno.EDQUOT: "the disk quota is exceeded",
            }[c]
            return OutputError(
                f"cannot write {path}: {advice}; nothing was replaced (the previous content, if any, is intact) — "
                "free some space, raise the limit or choose another folder"
            )
    return None


def write_file(path: str | Path, data: str | bytes, *, encoding: str = "utf-8") -> Path:
    """Write `data` to `path` atomically (temporary sibling, then one rename), mode 0666 & ~umask."""
    path = Path(path)
    if path.is_dir():
        raise OutputError(f"{path} is a folder; give a file name")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise OutputError(f"cannot write {path}: {path.parent} is not a folder") from None
    tmp = _sibling(path, _PARTIAL)
    payload = data.encode(encoding) if isinstance(data, str) else data
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
        os.replace(tmp, path)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        full = disk_error(exc, path) if isinstance(exc, OSError) else None
        if full is not None:
            raise full from None
        raise
    return path


# --------------------------------------------------------------------------- the swap

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2 if sys.platform.startswith("linux") else 0


def _renameat2():
    if not _RENAME_EXCHANGE:
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    fn.restype = ctypes.c_int
    return fn


_EXCHANGE = _renameat2()


def exchange(a: Path, b: Path) -> bool:
    """Swap two existing paths in one atomic step; False when the system cannot."""
    if _EXCHANGE is None:
        return False
    if _EXCHANGE(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(a), None, str(b))


def swap_in(staging: Path, final: Path) -> None:
    """Put the finished folder `staging` at `final` in one step; remove what was there."""
    if not final.exists() and not final.is_symlink():
        os.rename(staging, final)
        return
    if exchange(staging, final):
        shutil.rmtree(staging, ignore_errors=True)  # now holds the previous content
        return
    # No atomic exchange here: two renames; a kill between them leaves the previous content
    # at .NAME.old-PID-TOKEN, which clean_stale() puts back.
    old = _sibling(final, _OLD)
    os.rename(final, old)
    os.rename(staging, final)
    shutil.rmtree(old, ignore_errors=True)


def parts_folder(final: Path) -> Path:
    """A new hidden folder beside `final` for intermediate files of this process. Its name
    carries this process's PID, so that `clean_stale` removes it if the process is killed
    before it removes the folder itself."""
    path = _sibling(final, _PARTS)
    path.mkdir(parents=True)
    return path


def clean_stale(final: str | Path) -> list[Path]:
    """Remove the staging folders of earlier, dead fsengine processes beside `final`; put back
    a previous folder that a killed fallback swap left aside. Returns the paths removed."""
    final = Path(final)
    if not final.parent.is_dir():
        return []
    pattern = _stale_pattern(final)
    legacy = _legacy_pattern(final)
    removed: list[Path] = []
    now = time.time()
    for entry in sorted(final.parent.iterdir()):
        match = pattern.match(entry.name)
        if match is None:
            if (
                legacy.match(entry.name)
                and entry.is_dir()
                and not entry.is_symlink()
                and now - entry.stat().st_mtime > LEGACY_AGE_SECONDS
            ):
                shutil.rmtree(entry, ignore_errors=True)
                removed.append(entry)
            continue
        if _alive(int(match.group(2))):
            continue
        if match.group(1) == _OLD and not final.exists():
            os.rename(entry, final)
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        removed.append(entry)
    return removed


class FolderWriter:
    """Write a folder whole: files go to `staging`, `commit()` swaps it in atomically.

    `owned(final)` says whether an existing `final` is fsengine's own output, which may be
    replaced; anything else (a user's folder, a file) is refused before anything is written,
    with `hint` saying how to proceed. An empty folder is always fine.

        with FolderWriter(out / "ml_feature_store_v2", owned=..., what="output") as w:
            ... write into w.staging ...
            w.commit()
    """

    def __init__(self, final: str | Path, *, owned: Callable[[Path], str | None], what: str):
        self.final = Path(final)
        self.what = what
        refuse_foreign(self.final, owned, what)
        self.final.parent.mkdir(parents=True, exist_ok=True)
        clean_stale(self.final)
        self.staging = _sibling(self.final, _PARTIAL)
        os.mkdir(self.staging, 0o777)  # the umask applies
        self.committed = False

    def commit(self) -> Path:
        try:
            swap_in(self.staging, self.final)
        except OSError as exc:
            full = disk_error(exc, self.final)
            if full is not None:
                raise full from None
            raise
        self.committed = True
        return self.final

    def abort(self) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)

    def __enter__(self) -> FolderWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if not self.committed:
            self.abort()
        if isinstance(exc, OSError) and not isinstance(exc, OutputError):
            full = disk_error(exc, self.final)
            if full is not None:
                raise full from None


def refuse_foreign(final: Path, owned: Callable[[Path], str | None], what: str) -> None:
    """Raise OutputError unless `final` is absent, an empty folder, or (per `owned`, which
    returns None when it is ours, else why not) fsengine's own output."""
    if final.is_symlink() and not final.exists():
        raise OutputError(f"{final} is a dangling symbolic link; choose an empty or new folder for the {what}")
    if not final.exists():
        return
    if not final.is_dir():
        raise OutputError(
            f"{final} exists and is not a folder; refusing to replace it with the {what} "
            "(choose an empty or new folder)"
        )
    try:
        empty = not any(final.iterdir())
    except OSError as exc:
        raise OutputError(f"cannot list {final}: {exc.strerror}") from None
    if empty:
        return
    why = owned(final)
    if why is not None:
        raise OutputError(
            f"{final} already holds files fsengine did not write ({why}); refusing to replace it with the "
            f"{what}: choose an empty or new folder, or remove it yourself"
        )
