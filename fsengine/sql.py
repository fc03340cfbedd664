"""The SQL files under queries/ (installed as the data package fsengine.queries): find one by
name, read it, and list the `$names` it binds. Every query runs from its file's text; nothing
is formatted into SQL."""

from __future__ import annotations

import re
from functools import lru_cache
from importlib.resources import files

from fsengine.errors import InputError

_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_LINE_COMMENT = re.compile(r"--[^\n]*")
_BLOCK_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_STRING = re.compile(r"'(?:[^']|'')*'")


# queries/ is split the way the data flows; a query's name (its file's stem) is unique across
# the folders, so callers name a query without knowing where it lives.
QUERY_FOLDERS = ("engine", "explain", "bigquery")


@lru_cache(maxsize=None)
def query_text(name: str) -> str:
    """The SQL of queries/<folder>/<name>.sql (installed as package fsengine.queries)."""
    root = files("fsengine.queries")
    for folder in QUERY_FOLDERS:
        resource = root.joinpath(folder).joinpath(f"{name}.sql")
        if resource.is_file():
            return resource.read_text(encoding="utf-8")
    raise InputError(f"query file {name}.sql not found under fsengine.queries ({', '.join(QUERY_FOLDERS)})")


def parameter_names(sql: str) -> list[str]:
    """The `$names` a statement uses, outside comments and string literals, in first-use order."""
    code = _STRING.sub("''", _BLOCK_COMMENT.sub(" ", _LINE_COMMENT.sub(" ", sql)))
    return list(dict.fromkeys(_PARAM.findall(code)))


def statement(name: str) -> tuple[str, list[str]]:
    sql = query_text(name)
    body = sql.strip()
    if body.endswith(";"):
        body = body[:-1]
    return "\n" + body + "\n", parameter_names(sql)
