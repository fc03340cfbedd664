"""Output paths checked before any work starts: a run that can never write its result should
fail in a second with one line, not after minutes of computing (or with an OS traceback).

Writability is asked of the operating system (os.access), so it follows whatever the process
is allowed: a folder with mode 0555 stops a user but not root, and a read-only file system
stops both.
"""

from __future__ import annotations

import os
from pathlib import Path

from fsengine.errors import InputError


def _refuse_empty(path: str | os.PathLike, what: str) -> Path:
    # Path("") is Path("."): an empty option would silently mean the current folder
    if isinstance(path, str) and not path.strip():
        raise InputError(f"{what} is empty: give a path")
    return Path(path)


def _nearest_existing(path: Path) -> Path:
    here = path.absolute()
    while not here.exists() and here != here.parent:
        here = here.parent
    return here


def _writable_folder(folder: Path) -> bool:
    return os.access(folder, os.W_OK | os.X_OK)


def check_output_folder(path: str | os.PathLike, what: str = "--out") -> Path:
    """The folder a job will write into: an existing writable folder, or one that can be made."""
    path = _refuse_empty(path, what)
    if path.exists():
        if not path.is_dir():
            raise InputError(f"{what} {path} exists and is not a folder; give a folder to write into")
        if not _writable_folder(path):
            raise InputError(f"{what} {path}: no permission to write in this folder")
        return path
    ancestor = _nearest_existing(path)
    if not ancestor.is_dir():
        raise InputError(f"{what} {path} cannot be created: {ancestor} is not a folder")
    if not _writable_folder(ancestor):
        raise InputError(f"{what} {path} cannot be created: no permission to write in {ancestor}")
    return path


def check_output_file(path: str | os.PathLike, what: str) -> Path:
    """A file a job will write: not a folder, in a folder that exists or can be made and is
    writable (the file is written beside and renamed, so only the folder's permission counts)."""
    path = _refuse_empty(path, what)
    if path.is_dir():
        raise InputError(f"{what} {path} is a folder; give a file name, e.g. {path / 'report.html'}")
    ancestor = _nearest_existing(path.parent)
    if not ancestor.is_dir():
        raise InputError(f"{what} {path} cannot be written: {ancestor} is not a folder")
    if not _writable_folder(ancestor):
        raise InputError(f"{what} {path} cannot be written: no permission to write in {ancestor}")
    return path
