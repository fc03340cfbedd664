"""The query runner: materialise queries/<name>.sql as the temp table <name>, binding exactly
the `$names` the file uses, and time each query."""

from __future__ import annotations

import re
import time
from functools import lru_cache
from importlib.resources import files

import duckdb

from fsengine.errors import InputError

_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_LINE_COMMENT = re.compile(r"--[^\n]*")
_BLOCK_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_STRING = re.compile(r"'(?:[^']|'')*'")


@lru_cache(maxsize=None)
def query_text(name: str) -> str:
    """The SQL of queries/<name>.sql (installed as package fsengine.queries)."""
    resource = files("fsengine.queries").joinpath(f"{name}.sql")
    if not resource.is_file():
        raise InputError(f"query file {name}.sql not found in package fsengine.queries")
    return resource.read_text(encoding="utf-8")


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


def run_query(con: duckdb.DuckDBPyConnection, name: str, params: dict) -> float:
    """Create (or replace) temp table `name` from queries/<name>.sql; return seconds taken."""
    body, names = statement(name)
    missing = [n for n in names if n not in params]
    if missing:
        raise InputError(f"query {name}.sql needs parameters {missing} that the run does not provide")
    began = time.perf_counter()
    con.execute(f'CREATE OR REPLACE TEMP TABLE "{name}" AS {body}', {n: params[n] for n in names})
    return time.perf_counter() - began


class TimedRunner:
    """`run_query` with the same signature that also records each query's seconds."""

    def __init__(self, progress=None):
        self.timings: dict[str, float] = {}
        self._progress = progress

    def __call__(self, con: duckdb.DuckDBPyConnection, name: str, params: dict) -> float:
        seconds = run_query(con, name, params)
        self.timings[name] = self.timings.get(name, 0.0) + seconds
        if self._progress is not None:
            self._progress(f"{name}: {seconds:.3f} s")
        return seconds
