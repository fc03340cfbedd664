"""The backfill job: snapshot -> engine -> scoring -> output rows -> Parquet, as one call.

The CLI and library users call `backfill()`; it holds no presentation, only the flow and
the figures a caller may want to show (timings, rows per date).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Callable

from fsengine.contracts import Contract, contract_of, resolve_contract
from fsengine.contracts.profile import REFERENCE, Profile
from fsengine.errors import InputError
from fsengine.snapshot.format import Snapshot

# The committed fixture, installed as package data (fsengine.bundled = fixtures/ in the
# repository), so the quick start works from any kind of install.
BUNDLED_SNAPSHOT = Path(str(files("fsengine.bundled").joinpath("small")))


@dataclass
class BackfillReport:
    out: Path
    start: dt.date
    end: dt.date
    rows: int
    rows_per_date: dict[dt.date, int]
    timings: dict[str, float] = field(default_factory=dict)
    wall_seconds: float = 0.0


def default_snapshot() -> Path:
    """The bundled fixture snapshot, so a new user sees the tool work at once."""
    if not (BUNDLED_SNAPSHOT / "manifest.json").is_file():
        raise InputError(
            f"no --snapshot given and the bundled fixture {BUNDLED_SNAPSHOT} is missing; "
            "pass --snapshot DIR or run `fsengine fixtures generate --preset small --out DIR`"
        )
    return BUNDLED_SNAPSHOT


def resolve_range(snapshot: Snapshot, start: dt.date | None, end: dt.date | None) -> tuple[dt.date, dt.date]:
    """Fill missing bounds with the widest range the snapshot can serve."""
    if start is None or end is None:
        servable = snapshot.servable_range()
        if servable is None:
            raise InputError(f"snapshot {snapshot.path} covers no complete date; pass --start and --end")
        start = start or servable[0]
        end = end or servable[1]
    if start > end:
        raise InputError(f"--start {start} is after --end {end}")
    return start, end


def backfill(
    out: str | Path,
    snapshot_path: str | Path | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    mode: str = "auto",
    as_of: dt.date | None = None,
    verify_checksums: bool = True,
    progress: Callable[[str], None] | None = None,
    chunk_dates: int | None = None,
    workers: int | None = None,
    chunk: tuple[int, int] | None = None,
    profile: Profile = REFERENCE,
    contract: str | Path | Contract | None = None,
) -> BackfillReport:
    """Compute every row of [start, end] under `profile` and its contract (default: the
    reference profile of contract v2_37features) and write them to OUT/ml_feature_store_v2.
    `contract` (a bundled contract's name, a contract file's path or a Contract), when given,
    selects the run's contract instead, and the profile follows from it (README D54-1).

    The range is split into chunks of `chunk_dates` consecutive game dates (None: sized from
    the rows per date so that memory stays bounded), computed by `workers` processes (None:
    one per CPU); the rows do not depend on either. `chunk=(i, n)` computes only the i-th of n
    near-equal parts of the range, for runs spread over n machines (see `plan`).
    """
    import polars as pl

    from fsengine.output.schema import write_output
    from fsengine.workers import ChunkTask, default_workers, run_chunks, threads_per_worker

    began = time.perf_counter()
    if contract is not None:
        try:
            profile = resolve_contract(contract).profile
        except ValueError as exc:
            raise InputError(str(exc)) from None
    note = progress or (lambda message: None)
    snapshot = Snapshot.open(snapshot_path or default_snapshot(), verify_checksums=verify_checksums)
    start, end = resolve_range(snapshot, start, end)
    plan = plan_run(snapshot, start, end, mode, as_of, chunk_dates=chunk_dates, chunk=chunk)
    start, end = plan.start, plan.end
    workers = min(workers or default_workers(), len(plan.chunks))
    note(
        f"snapshot {snapshot.path}: run {start} .. {end}, mode {mode}, "
        f"{len(plan.chunks)} chunk(s) of <= {plan.dates_per_chunk} game dates, {workers} worker(s)"
    )
    run_ts = dt.datetime.now(dt.timezone.utc)
    tasks = [
        ChunkTask(
            snapshot.path, c, mode, plan.as_of, run_ts, threads_per_worker(workers) if workers > 1 else None, profile
        )
        for c in plan.chunks
    ]
    per_date: dict[dt.date, int] = {}
    timings: dict[str, float] = {}
    produced = {"seconds": 0.0}

    def output_parts():
        for result in run_chunks(tasks, workers, note):
            for name, seconds in result.timings.items():
                timings[name] = timings.get(name, 0.0) + seconds
            for part in result.parts:
                for day, count in pl.from_arrow(part.column("game_date")).value_counts().iter_rows():
                    per_date[day] = per_date.get(day, 0) + count
                yield part

    t0 = time.perf_counter()
    written = write_output(output_parts(), out, contract=contract_of(profile))
    if workers <= 1:  # in one process the stages add up to the wall time; the rest is writing
        staged = sum(timings.values())
        timings["write"] = max(0.0, time.perf_counter() - t0 - staged)
    produced["seconds"] = time.perf_counter() - t0

    record_run(out, snapshot.path, start, end, mode, as_of, chunk=chunk, contract=profile.contract)
    return BackfillReport(
        out=written,
        start=start,
        end=end,
        rows=sum(per_date.values()),
        rows_per_date=dict(sorted(per_date.items())),
        timings=timings,
        wall_seconds=time.perf_counter() - began,
    )


@dataclass
class RunPlan:
    """How a run over [start, end] is cut: its chunks and the figures they were sized from."""

    start: dt.date
    end: dt.date
    as_of: dt.date
    game_dates: list[dt.date]
    rows: int
    dates_per_chunk: int
    chunks: list


def _run_dates(
    snapshot: Snapshot, start: dt.date, end: dt.date, mode: str, as_of: dt.date | None
) -> tuple[dt.date, dict[dt.date, int]]:
    """The run's as-of date and, per game date it can produce, the number of spine candidates."""
    from fsengine.engine.compute import default_as_of, production_from, validate_run
    from fsengine.engine.extract import run_query
    from fsengine.engine.session import connect

    validate_run(start, end, mode, as_of)
    as_of = as_of or default_as_of()
    snapshot.check_coverage(start, end)
    con = connect(1)
    try:
        snapshot.register(con, bounds=(start, end))
        run_query(con, "run_dates", {"start": start, "end": end, "production_from": production_from(mode, start, as_of)})
        counted = con.execute("SELECT game_date, rows FROM run_dates ORDER BY game_date").fetchall()
    finally:
        con.close()
    return as_of, dict(counted)


def plan_run(
    snapshot: Snapshot,
    start: dt.date,
    end: dt.date,
    mode: str = "auto",
    as_of: dt.date | None = None,
    *,
    chunk_dates: int | None = None,
    chunk: tuple[int, int] | None = None,
) -> RunPlan:
    """The chunks one process computes: the whole range, or with `chunk=(i, n)` the i-th of the
    n near-equal parts `plan_machines` gives, cut into chunks of `chunk_dates` game dates
    (None: sized from the rows per date)."""
    from fsengine.engine.chunks import auto_dates_per_chunk, plan_chunks, split_for_machines

    as_of, rows_by_date = _run_dates(snapshot, start, end, mode, as_of)
    dates = list(rows_by_date)
    if chunk is not None:
        index, count = chunk
        part = split_for_machines(start, end, dates, count)[index - 1]
        start, end = part.start, part.end
        dates = [d for d in dates if start <= d <= end]
    rows = sum(rows_by_date[d] for d in dates)
    size = chunk_dates or auto_dates_per_chunk(rows, len(dates))
    return RunPlan(start, end, as_of, dates, rows, size, plan_chunks(start, end, dates, size))


def plan_machines(
    snapshot: Snapshot, start: dt.date, end: dt.date, count: int, mode: str = "auto", as_of: dt.date | None = None
) -> list:
    """[start, end] as `count` independent parts of nearly equal game dates (one per machine)."""
    from fsengine.engine.chunks import split_for_machines

    _, rows_by_date = _run_dates(snapshot, start, end, mode, as_of)
    return split_for_machines(start, end, list(rows_by_date), count)


RUN_RECORD = "fsengine-run.json"


def record_run(
    out: str | Path,
    snapshot_path: Path,
    start: dt.date,
    end: dt.date,
    mode: str,
    as_of: dt.date | None,
    chunk: tuple[int, int] | None = None,
    contract: str | None = None,
) -> None:
    """Note beside the rows which snapshot and options produced them (read by `explain`)."""
    record = {
        "snapshot": str(Path(snapshot_path).resolve()),
        "start": start.isoformat(),
        "end": end.isoformat(),
        "mode": mode,
        "as_of": as_of.isoformat() if as_of else None,
        "chunk": f"{chunk[0]}/{chunk[1]}" if chunk else None,
    }
    if contract is not None:
        record["contract"] = contract
    target = Path(out) / RUN_RECORD
    tmp = target.with_name(target.name + ".partial")
    tmp.write_text(json.dumps(record, indent=2) + "\n")
    os.replace(tmp, target)


def recorded_snapshot(out: str | Path) -> Path | None:
    """The snapshot a run in OUT recorded, if it still exists."""
    try:
        record = json.loads((Path(out) / RUN_RECORD).read_text())
    except (OSError, ValueError):
        return None
    path = Path(record.get("snapshot", ""))
    return path if (path / "manifest.json").is_file() else None
