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

from fsengine.contracts.profile import REFERENCE, Profile
from fsengine.errors import InputError
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
    profile: Profile = REFERENCE,
) -> BackfillReport:
    """Compute, score and write the rows of [start, end] under `profile` and its contract
    (default: the reference profile of contract v2_37features)."""
    from fsengine.engine.compute import compute
    from fsengine.output.rows import output_rows
    from fsengine.output.schema import write_output
    import polars as pl

    began = time.perf_counter()
    note = progress or (lambda message: None)
    snapshot = Snapshot.open(snapshot_path or default_snapshot(), verify_checksums=verify_checksums)
    start, end = resolve_range(snapshot, start, end)
    note(f"snapshot {snapshot.path}: run {start} .. {end}, mode {mode}")
    result = compute(snapshot, start, end, mode=mode, as_of=as_of, progress=note, profile=profile)
    timings = dict(result.timings)

    run_ts = dt.datetime.now(dt.timezone.utc)
    per_date: dict[dt.date, int] = {}
    stage_seconds: dict[str, float] = {"score": 0.0, "rows": 0.0}

    def output_parts():
        # Each output row depends only on its own assembled row: the parts give the same rows.
        for first in range(0, result.rows.height, ROWS_PER_PART):
            note(f"scoring and writing rows {first + 1:,}–{min(first + ROWS_PER_PART, result.rows.height):,} of {result.rows.height:,}")
            part = output_rows(result.rows.slice(first, ROWS_PER_PART), run_ts, profile, timings=stage_seconds)
            for day, count in pl.from_arrow(part.column("game_date")).value_counts().iter_rows():
                per_date[day] = per_date.get(day, 0) + count
            yield part

    t0 = time.perf_counter()
    written = write_output(output_parts(), out)
    timings.update(stage_seconds)
    timings["write"] = max(0.0, time.perf_counter() - t0 - stage_seconds["score"] - stage_seconds["rows"])

    record_run(out, snapshot.path, start, end, mode, as_of)
    return BackfillReport(
        out=written,
        start=start,
        end=end,
        rows=sum(per_date.values()),
        rows_per_date=dict(sorted(per_date.items())),
        timings=timings,
        wall_seconds=time.perf_counter() - began,
    )


RUN_RECORD = "fsengine-run.json"


def record_run(out: str | Path, snapshot_path: Path, start: dt.date, end: dt.date, mode: str, as_of: dt.date | None) -> None:
    """Note beside the rows which snapshot and options produced them (read by `explain`)."""
    record = {
        "snapshot": str(Path(snapshot_path).resolve()),
        "start": start.isoformat(),
        "end": end.isoformat(),
        "mode": mode,
        "as_of": as_of.isoformat() if as_of else None,
    }
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
