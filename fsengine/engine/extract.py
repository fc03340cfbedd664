"""The query runner: materialise queries/<name>.sql as the temp table <name>, binding exactly
the `$names` the file uses, and time each query."""

from __future__ import annotations

import time

import duckdb

from fsengine.errors import InputError
from fsengine.sql import parameter_names, query_text, statement  # noqa: F401  (re-exported)

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
