"""The engine entry point: (snapshot, run options) -> assembled rows, for every date of the run
at once (docs/engine.md). Pure: nothing is written; the DuckDB session lives in memory
for the duration of the call."""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import duckdb
import polars as pl

from fsengine.contracts.profile import REFERENCE, Profile
from fsengine.engine.assemble import assemble
from fsengine.engine.extract import TimedRunner, stage_queries
from fsengine.engine.session import Session, chunk_connection, query_params
from fsengine.errors import InputError, OutOfMemory, SnapshotError
from fsengine.snapshot.format import Snapshot

MODES = ("auto", "backfill", "production")
ENGINE_QUERIES = stage_queries("core")  # in registry order (extract.EXTRACTIONS)
AS_OF_ZONE = "America/New_York"


@dataclass
class EngineResult:
    rows: pl.DataFrame
    timings: dict[str, float] = field(default_factory=dict)
    dates: list[dt.date] = field(default_factory=list)


def default_as_of() -> dt.date:
    """Today in America/New_York (docs/features.md §2.1)."""
    return dt.datetime.now(ZoneInfo(AS_OF_ZONE)).date()


def production_from(mode: str, start: dt.date, as_of: dt.date) -> dt.date:
    """First date built from the production spine (docs/features.md §2.1): auto and backfill switch
    at as_of (backfill cannot build dates whose games are not played); production is forced
    from start."""
    return start if mode == "production" else as_of


def _queries_since(runner: TimedRunner, earlier: tuple[str, ...]) -> float:
    """Seconds of the queries run after the `earlier` ones (timed separately)."""
    return sum(s for name, s in runner.timings.items() if name not in earlier)


_UNREADABLE_FILE = re.compile(r'Failed to read file "(?P<path>[^"]+)": (?P<reason>.*)')


def _unreadable_snapshot_file(exc: Exception) -> SnapshotError | None:
    """A snapshot file DuckDB cannot decode (a damaged page, a truncated file) is the snapshot's
    fault, not a bug: name the file and the way to find every such file (the checksums, which
    --no-verify skipped)."""
    found = _UNREADABLE_FILE.search(str(exc))
    if found is None:
        return None
    reason = found["reason"].strip().splitlines()[0]
    return SnapshotError(
        f"snapshot file {found['path']} cannot be read ({reason}): it is damaged or was changed after the "
        "snapshot was taken. Run without --no-verify to check every file against the manifest's checksums, "
        "or take the snapshot again"
    )


def validate_run(start, end, mode: str, as_of) -> None:
    for label, value in (("start", start), ("end", end), ("as_of", as_of)):
        if value is None and label == "as_of":
            continue
        if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
            raise InputError(f"{label} must be a date, got {value!r}")
    if start > end:
        raise InputError(f"start {start} is after end {end}")
    if mode not in MODES:
        raise InputError(f"mode {mode!r} is not one of {', '.join(MODES)}")


# The assembly a profile names (its `assembly` setting; "reference" when it names none):
# "reference" = the round-1 registry and assemble.py below; every other name maps to the
# function that runs its own extractions after the spine and assembles its contract's rows.
REFERENCE_ASSEMBLY = "reference"


def assembly_of(profile: Profile) -> str:
    return profile.assembly


def _compute_other(con, params, profile, minutes_type, runner, assembly, stages):
    from fsengine.engine.assemble_head import compute_head

    assemblies = {"head": compute_head}
    if assembly not in assemblies:
        raise InputError(
            f"profile {profile.name} names assembly {assembly!r}; known: reference, {', '.join(assemblies)}"
        )
    runner(con, "spine", params)
    return assemblies[assembly](con, params, profile, minutes_type, runner, stages)


def compute(
    snapshot: Snapshot,
    start: dt.date,
    end: dt.date,
    mode: str = "auto",
    as_of: dt.date | None = None,
    progress: Callable[[str], None] | None = None,
    profile: Profile = REFERENCE,
    threads: int | None = None,
    memory_limit: str | None = None,
    session: Session | None = None,
) -> EngineResult:
    """Assembled rows (fatigue gate applied) for every spine row of [start, end].

    `session`: the run's open Session (same snapshot and profile) to compute on, as one of its
    chunks; without, a connection of its own is opened and closed.

    Raises InputError for bad dates/mode and CoverageError (naming the table, the bounds it
    has and the bounds it needs) before anything is computed.
    """
    from fsengine.engine.history import player_history

    validate_run(start, end, mode, as_of)
    as_of = as_of or default_as_of()
    snapshot.check_coverage(start, end)
    params = query_params(start, end, as_of, production_from(mode, start, as_of), profile)
    runner = TimedRunner(progress)
    con, release = chunk_connection(snapshot, profile, threads, memory_limit, (start, end), session)
    try:
        assembly = assembly_of(profile)
        if assembly != REFERENCE_ASSEMBLY:
            stages: dict[str, float] = {}
            rows = _compute_other(con, params, profile, snapshot.minutes_type, runner, assembly, stages)
            dates = [d for (d,) in con.execute("SELECT DISTINCT game_date FROM spine ORDER BY 1").fetchall()]
            if progress is not None:
                progress(f"assembled {rows.height} rows over {len(dates)} dates")
            return EngineResult(rows=rows, timings={**runner.timings, **stages}, dates=dates)
        for name in ENGINE_QUERIES:
            runner(con, name, params)
        began = time.perf_counter()
        history = player_history(con, params, snapshot.minutes_type, runner, profile)
        history_seconds = time.perf_counter() - began - _queries_since(runner, ENGINE_QUERIES)
        began = time.perf_counter()
        before = set(runner.timings)
        rows = assemble(con, history, profile, runner)
        assembly_seconds = (
            time.perf_counter() - began - sum(s for name, s in runner.timings.items() if name not in before)
        )
        dates = [d for (d,) in con.execute("SELECT DISTINCT game_date FROM spine ORDER BY 1").fetchall()]
    except duckdb.OutOfMemoryException as exc:
        setting = con.execute("SELECT current_setting('memory_limit')").fetchone()
        limit = setting[0] if setting else "unknown"
        raise OutOfMemory(
            f"the engine ran out of memory computing {start} .. {end} (DuckDB memory_limit {limit}: "
            f"{str(exc).splitlines()[0]}); run a smaller date range, or raise --memory-limit if the machine has more"
        ) from None
    except duckdb.Error as exc:
        damaged = _unreadable_snapshot_file(exc)
        if damaged is None:
            raise
        raise damaged from None
    finally:
        release()
    timings = dict(runner.timings)
    timings["history"] = max(0.0, history_seconds)
    timings["assembly"] = max(0.0, assembly_seconds)
    if progress is not None:
        progress(f"assembled {rows.height} rows over {len(dates)} dates")
    return EngineResult(rows=rows, timings=timings, dates=dates)
