"""The backfill job: snapshot -> engine -> scoring -> output rows -> Parquet, as one call.

The CLI and library users call `backfill()`; it holds no presentation, only the flow and
the figures a caller may want to show (timings, rows per date).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Callable

from fsengine.errors import EmptyRunError, InputError, OutOfMemory, OutputError
from fsengine.output.schema import RUN_RECORD
from fsengine.snapshot.format import Snapshot

# Output rows are made and written this many at a time: memory stays bounded on long runs,
# the Parquet writer works on one part while the next is made, and small parts are also
# cheaper per row to make (less memory to fault in).
ROWS_PER_PART = 25_000
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
    allow_empty: bool = False,
    memory_limit: str | None = None,
) -> BackfillReport:
    """Compute [start, end] from the snapshot and write the rows under OUT/ml_feature_store_v2/.

    A run that produces no row at all for a range the snapshot covers is refused (EmptyRunError,
    the previous output untouched) unless `allow_empty`. `memory_limit` is DuckDB's
    memory_limit ("4GB", "75%"); default: 75% of the cgroup or address-space limit, if any.
    """
    from fsengine.engine.compute import compute
    from fsengine.output.rows import output_rows
    from fsengine.output.schema import write_output
    import polars as pl

    began = time.perf_counter()
    note = progress or (lambda message: None)
    snapshot = Snapshot.open(snapshot_path or default_snapshot(), verify_checksums=verify_checksums)
    start, end = resolve_range(snapshot, start, end)
    note(f"snapshot {snapshot.path}: run {start} .. {end}, mode {mode}")
    _check_out(out)
    try:
        result = compute(snapshot, start, end, mode=mode, as_of=as_of, progress=note,
                         memory_limit=memory_limit or default_memory_limit())
    except MemoryError:  # Polars / pyarrow allocations outside DuckDB's limit
        raise OutOfMemory(
            f"ran out of memory computing {start} .. {end}; run a smaller date range (or lower --memory-limit to "
            "leave more room outside the engine)"
        ) from None
    if result.rows.height == 0 and not allow_empty:
        raise EmptyRunError(
            f"the run {start} .. {end} produced no row although snapshot {snapshot.path} covers that range "
            f"({_spine_rows(snapshot)}); the previous output in {out} is untouched. Check the snapshot, or pass "
            "--allow-empty to write an empty output"
        )
    timings = dict(result.timings)

    run_ts = dt.datetime.now(dt.timezone.utc)
    per_date: dict[dt.date, int] = {}
    stage_seconds: dict[str, float] = {"score": 0.0, "rows": 0.0}

    def output_parts():
        # Each output row depends only on its own assembled row: the parts give the same rows.
        for first in range(0, result.rows.height, ROWS_PER_PART):
            note(f"scoring and writing rows {first + 1:,}–{min(first + ROWS_PER_PART, result.rows.height):,} of {result.rows.height:,}")
            part = output_rows(result.rows.slice(first, ROWS_PER_PART), run_ts, timings=stage_seconds)
            for day, count in pl.from_arrow(part.column("game_date")).value_counts().iter_rows():
                per_date[day] = per_date.get(day, 0) + count
            yield part

    t0 = time.perf_counter()
    try:
        written = write_output(output_parts(), out, run_record=run_record(snapshot.path, start, end, mode, as_of))
    except MemoryError:
        raise OutOfMemory(
            f"ran out of memory scoring and writing {start} .. {end}; nothing was replaced in {out}. Run a smaller "
            "date range"
        ) from None
    timings.update(stage_seconds)
    timings["write"] = max(0.0, time.perf_counter() - t0 - stage_seconds["score"] - stage_seconds["rows"])

    return BackfillReport(
        out=written,
        start=start,
        end=end,
        rows=sum(per_date.values()),
        rows_per_date=dict(sorted(per_date.items())),
        timings=timings,
        wall_seconds=time.perf_counter() - began,
    )


def _check_out(out: str | Path) -> None:
    """Refuse an OUT that cannot take the rows before computing anything."""
    from fsengine.output.schema import foreign_output, output_dir
    from fsengine.output.write import refuse_foreign

    out = Path(out)
    if out.exists() and not out.is_dir():
        raise OutputError(f"--out {out} is a file, not a folder; choose an empty or new folder")
    refuse_foreign(output_dir(out), foreign_output, "output rows")


def _spine_rows(snapshot: Snapshot) -> str:
    pgs = snapshot.tables["nba_analytics.player_game_summary"]
    upgc = snapshot.tables["nba_analytics.upcoming_player_game_context"]
    return f"player_game_summary has {pgs.rows} rows, upcoming_player_game_context {upgc.rows}"


def default_memory_limit() -> str | None:
    """75% of the memory this process may use (cgroup v2 memory.max, else RLIMIT_AS), as a
    DuckDB memory_limit; None when neither is set (DuckDB's own default: 80% of RAM)."""
    import resource

    limits = []
    try:
        text = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        if text.isdigit():
            limits.append(int(text))
    except OSError:
        pass
    soft, _hard = resource.getrlimit(resource.RLIMIT_AS)
    if soft not in (resource.RLIM_INFINITY, -1) and soft > 0:
        limits.append(soft)
    if not limits:
        return None
    return f"{max(1, int(min(limits) * 0.75) // 2**20)}MB"


def run_record(snapshot_path: Path, start: dt.date, end: dt.date, mode: str, as_of: dt.date | None) -> dict:
    return {
        "snapshot": str(Path(snapshot_path).resolve()),
        "start": start.isoformat(),
        "end": end.isoformat(),
        "mode": mode,
        "as_of": as_of.isoformat() if as_of else None,
    }


def record_run(out: str | Path, snapshot_path: Path, start: dt.date, end: dt.date, mode: str, as_of: dt.date | None) -> None:
    """Note beside the rows which snapshot and options produced them (read by `explain`)."""
    from fsengine.output.write import write_file

    write_file(Path(out) / RUN_RECORD, json.dumps(run_record(snapshot_path, start, end, mode, as_of), indent=2) + "\n")


def read_run_record(out: str | Path) -> dict | None:
    """The run record of OUT (inside the output folder, else beside it), or None."""
    from fsengine.output.schema import output_dir

    for path in (output_dir(out) / RUN_RECORD, Path(out) / RUN_RECORD):
        try:
            record = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(record, dict) and record:
            return record
    return None


def recorded_snapshot(out: str | Path) -> Path | None:
    """The snapshot a run in OUT recorded. None when OUT records none; SnapshotError when the
    recorded snapshot is gone (explaining a row with other data would mislead)."""
    from fsengine.errors import SnapshotError

    record = read_run_record(out)
    if record is None or not record.get("snapshot"):
        return None
    path = Path(record["snapshot"])
    if not (path / "manifest.json").is_file():
        raise SnapshotError(
            f"the run in {out} was computed from snapshot {path}, which no longer exists (or has no manifest.json); "
            "pass --snapshot with that snapshot (or an identical one)"
        )
    return path
