"""The DuckDB session of one run: an in-memory connection with the snapshot's tables as views,
the profile's built-in season starts as a small table, and the named parameters every query
file may bind (docs/engine.md).

A `Session` is one such connection kept for a whole run in one process: the run is planned
on it and its chunks are computed on it one after the other (each with the views restricted
to its own dates, its tables dropped when it is done), so a run pays for one connection and
one set of views, not one per step.

Decimal handling (docs/sources.md §1): Phase-4 NUMERIC columns arrive as DECIMAL(38,9) and the
query files turn them into float64 with `CAST(x AS DOUBLE)`. DuckDB computes that cast as the
unscaled integer divided by 10^9 in float64, which is the correctly rounded float for every
|x| < 9·10^6 (docs/sources.md §1); tests/engine/test_session.py checks it against Python's
`float(Decimal)`.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Callable
from dataclasses import fields

import duckdb
import pyarrow as pa

from fsengine.contracts.profile import REFERENCE, Profile
from fsengine.errors import InputError
from fsengine.snapshot.format import Snapshot

SEASON_STARTS_TABLE = "season_start_builtin"


def connect(threads: int | None = None, memory_limit: str | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection using every core (or `threads`), within `memory_limit`
    (DuckDB syntax: "4GB", "500MB", "75%"; None = DuckDB's default)."""
    con = duckdb.connect(":memory:")
    con.execute(f"SET threads = {int(threads or os.cpu_count() or 1)}")
    if memory_limit is not None:
        try:
            con.execute(f"SET memory_limit = '{_memory_text(memory_limit)}'")
        except duckdb.Error as exc:
            con.close()
            raise InputError(f"--memory-limit {memory_limit!r}: {str(exc).splitlines()[0]}") from None
    # Results must not depend on thread scheduling: keep insertion order where SQL allows it.
    con.execute("SET preserve_insertion_order = true")
    # Memory a query frees goes back to the system once the query is done (by default DuckDB's
    # allocator keeps it cached below a 128 MiB threshold). With this and the releases in
    # workers.py an x10 worker holds ~0.4-0.5 GiB between chunks instead of ~1.2 GiB; this
    # setting alone cost no measurable time.
    con.execute("SET allocator_flush_threshold = '8MB'")
    con.execute("SET allocator_background_threads = true")
    return con


def _memory_text(value: str) -> str:
    text = str(value).strip()
    if not re.fullmatch(r"[0-9]+(\.[0-9]+)?\s*(%|[KMGT]i?B|B|bytes)?", text, re.IGNORECASE):
        raise InputError(f"--memory-limit {value!r}: expected a size such as 4GB, 512MB or 75%")
    return text


def profile_windows(profile: Profile) -> dict[str, int]:
    """Every integer window of the profile under its field name ($last10_window_days, ...)."""
    return {
        f.name: getattr(profile, f.name)
        for f in fields(profile)
        if isinstance(getattr(profile, f.name), int) and not isinstance(getattr(profile, f.name), bool)
    }


def query_params(
    start: dt.date,
    end: dt.date,
    as_of: dt.date,
    production_from: dt.date,
    profile: Profile = REFERENCE,
) -> dict[str, object]:
    """The parameter dict the query files bind from ($start, $end, $as_of, windows, ...).

    `production_from` is the first date built from the production spine (docs/features.md §2.1):
    `as_of` in modes auto and backfill, `start` when production is forced.
    """
    month, day = profile.fallback_season_start_month_day
    params: dict[str, object] = {
        "start": start,
        "end": end,
        "as_of": as_of,
        "production_from": production_from,
        "fallback_season_start_month": month,
        "fallback_season_start_day": day,
    }
    params.update(profile_windows(profile))
    return params


def register_season_starts(con: duckdb.DuckDBPyConnection, profile: Profile = REFERENCE) -> None:
    """The profile's built-in season starts as table season_start_builtin(season_year, start_date)."""
    seasons = sorted(profile.season_starts)
    data = pa.table(
        {
            "season_year": pa.array(seasons, pa.int64()),
            "start_date": pa.array([profile.season_starts[s] for s in seasons], pa.date32()),
        }
    )
    con.register("season_start_builtin_arrow", data)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {SEASON_STARTS_TABLE} AS SELECT * FROM season_start_builtin_arrow")
    con.unregister("season_start_builtin_arrow")


def open_session(
    snapshot: Snapshot,
    profile: Profile = REFERENCE,
    threads: int | None = None,
    memory_limit: str | None = None,
    bounds: tuple[dt.date, dt.date] | None = None,
) -> duckdb.DuckDBPyConnection:
    """Connection with the snapshot views (pgs, upgc, ...) and the season-start tables.

    With `bounds` the views keep only the rows [start, end] and its lookbacks need. The first
    game of each season is taken from the whole snapshot first (over whole views of just the
    tables the session's extractions read), because a season's start may lie outside a chunk's
    rows; so a chunk produces the rows one whole run would.
    """
    from fsengine.engine.extract import BY_NAME, run_query, stage_queries

    session_queries = stage_queries("session")
    con = connect(threads, memory_limit)
    try:
        whole = None if bounds is None else {view for name in session_queries for view in BY_NAME[name].reads}
        snapshot.register(con, only=whole)
        register_season_starts(con, profile)
        for name in session_queries:
            run_query(con, name, {})
        if bounds is not None:
            snapshot.register(con, bounds=bounds)
    except BaseException:
        con.close()
        raise
    return con


class Session:
    """One connection for a run in this process (see the module docstring), its views restricted
    to `bounds` (the run's dates) until `restrict` or `chunk` restricts them to others."""

    def __init__(
        self,
        snapshot: Snapshot,
        profile: Profile = REFERENCE,
        threads: int | None = None,
        memory_limit: str | None = None,
        *,
        bounds: tuple[dt.date, dt.date],
    ):
        self.snapshot = snapshot
        self.profile = profile
        self.con = open_session(snapshot, profile, threads, memory_limit, bounds=bounds)
        self.bounds = bounds  # the dates the views are restricted to
        self.closed = False
        self._own_tables = _temp_tables(self.con)  # the session's; a chunk drops every other one

    def share(self, threads: int, memory_limit: str | None) -> None:
        """From now on use `threads` threads within `memory_limit` (this process computes chunks
        beside worker processes, and takes a worker's share of the CPUs and of the memory)."""
        self.con.execute(f"SET threads = {int(threads)}")
        if memory_limit is not None:
            self.con.execute(f"SET memory_limit = '{_memory_text(memory_limit)}'")

    def restrict(self, bounds: tuple[dt.date, dt.date]) -> duckdb.DuckDBPyConnection:
        """The connection with the views keeping only what [start, end] needs (Snapshot.register)."""
        if bounds != self.bounds:
            self.snapshot.register(self.con, bounds=bounds)
            self.bounds = bounds
        return self.con

    def chunk(self, bounds: tuple[dt.date, dt.date]) -> tuple[duckdb.DuckDBPyConnection, Callable[[], None]]:
        """The connection restricted to one chunk's dates, and the call that ends the chunk: it
        drops every table the chunk made, so the session holds one chunk's tables at a time."""
        con = self.restrict(bounds)

        def done() -> None:
            for name in sorted(_temp_tables(con) - self._own_tables):
                con.execute(f'DROP TABLE IF EXISTS temp."{name}"')

        return con, done

    def close(self) -> None:
        """Close the connection (again: nothing)."""
        if not self.closed:
            self.closed = True
            self.con.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _temp_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {name for (name,) in con.execute("SELECT table_name FROM duckdb_tables() WHERE temporary").fetchall()}


def chunk_connection(
    snapshot: Snapshot,
    profile: Profile,
    threads: int | None,
    memory_limit: str | None,
    bounds: tuple[dt.date, dt.date],
    session: Session | None = None,
) -> tuple[duckdb.DuckDBPyConnection, Callable[[], None]]:
    """A connection for computing [start, end] and the call to make when done: a chunk of
    `session` (which must be of the same snapshot and profile), else a session of its own that
    the call closes."""
    if session is None:
        con = open_session(snapshot, profile, threads, memory_limit, bounds=bounds)
        return con, con.close
    if session.snapshot is not snapshot or session.profile != profile:
        raise ValueError("a chunk is computed on a session of its own snapshot and profile")
    return session.chunk(bounds)
