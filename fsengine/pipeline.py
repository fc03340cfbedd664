"""The four jobs as library calls, each returning a report (a dataclass) and raising an
fsengine.errors.FsengineError (with its exit code) when it cannot be done:

    backfill(out, snapshot, start, end)    snapshot -> engine -> scoring -> Parquet
    snapshot(out, start, end, ...)         BigQuery (Storage Read) -> format-1 snapshot
    push(out, ...)                         one load + one MERGE into the target
    run(start, end, ...)                   snapshot (reused when it covers the range) + backfill + push

They hold no presentation: the CLI renders the reports; `progress` callbacks get one-line
texts of what is happening now. The BigQuery jobs take a fsengine.config.Config, or build one
from keyword settings (project=, api_endpoint=, anonymous=, ...; see fsengine.config.load_config).
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import os
import time
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from fsengine.errors import InputError
from fsengine.paths import check_output_folder
from fsengine.snapshot.format import Snapshot

if TYPE_CHECKING:  # the BigQuery side is imported only by the calls that use it
    from fsengine.config import Config
    from fsengine.push.report import PushReport
    from fsengine.snapshot.read import SnapshotReport

Progress = Callable[[str], None]

# Output rows are made and written this many at a time: memory stays bounded on long runs,
# the Parquet writer works on one part while the next is made, and small parts are also
# cheaper per row to make (less memory to fault in).
ROWS_PER_PART = 25_000
# The committed fixture, installed as package data (fsengine.bundled = fixtures/ in the
# repository), so the quick start works from any kind of install.
BUNDLED_SNAPSHOT = Path(str(files("fsengine.bundled").joinpath("small")))
# No source table holds a game before the first NBA game; earlier dates are typos (and their
# lookback would fall off the calendar).
FIRST_GAME_DATE = dt.date(1946, 11, 1)
LAST_DATE = dt.date(9000, 12, 31)  # leaves room for a range's look-ahead arithmetic


class Mode(enum.StrEnum):
    """Which spine a date gets: AUTO = backfill before as_of, production from it."""

    AUTO = "auto"
    BACKFILL = "backfill"
    PRODUCTION = "production"


def parse_mode(mode: str | Mode) -> Mode:
    try:
        return Mode(mode)
    except ValueError:
        raise InputError(f"--mode {mode!r}: expected auto, backfill or production") from None


def check_dates(start: dt.date | None, end: dt.date | None) -> None:
    """Refuse dates no source table can hold, and a reversed range, before any work."""
    for option, day in (("--start", start), ("--end", end)):
        if day is not None and not FIRST_GAME_DATE <= day <= LAST_DATE:
            raise InputError(f"{option} {day} is outside {FIRST_GAME_DATE} (the first NBA game) .. {LAST_DATE}")
    if start is not None and end is not None and start > end:
        raise InputError(f"--start {start} is after --end {end}")


@dataclass
class BackfillReport:
    out: Path
    start: dt.date
    end: dt.date
    rows: int
    rows_per_date: dict[dt.date, int]
    timings: dict[str, float] = field(default_factory=dict)
    wall_seconds: float = 0.0

    def summary(self) -> str:
        return f"backfill: {self.rows} rows for {len(self.rows_per_date)} dates in {self.wall_seconds:.2f} s"


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
    mode: str | Mode = Mode.AUTO,
    as_of: dt.date | None = None,
    verify_checksums: bool = True,
    progress: Progress | None = None,
) -> BackfillReport:
    """Compute every feature row of [start, end] from a format-1 snapshot and write them as
    Parquet under OUT/ml_feature_store_v2/ (atomically). Without a snapshot, the bundled
    fixture; without start/end, the widest range the snapshot can serve."""
    # everything a caller can get wrong is refused before the snapshot is even opened
    out = check_output_folder(out)
    mode = parse_mode(mode).value
    check_dates(start, end)

    from fsengine.engine.compute import compute
    from fsengine.output.rows import output_rows
    from fsengine.output.schema import write_output
    import polars as pl

    began = time.perf_counter()
    note = progress or (lambda message: None)
    snapshot = Snapshot.open(snapshot_path or default_snapshot(), verify_checksums=verify_checksums)
    start, end = resolve_range(snapshot, start, end)
    note(f"snapshot {snapshot.path}: run {start} .. {end}, mode {mode}")
    result = compute(snapshot, start, end, mode=mode, as_of=as_of, progress=note)
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


# --------------------------------------------------------------------------- the BigQuery jobs


def _config(config: "Config | None", settings: dict[str, Any]) -> "Config":
    from fsengine.config import load_config

    if config is not None and settings:
        raise TypeError(f"pass either config or settings ({', '.join(sorted(settings))}), not both")
    return config if config is not None else load_config(**settings)


def _table_progress_text(p) -> str:
    return f"{p.key}: {p.rows:,} rows, {p.bytes / 1e6:.1f} MB ({p.streams_done}/{p.streams} streams)"


def snapshot(
    out: str | Path,
    start: dt.date,
    end: dt.date,
    *,
    config: "Config | None" = None,
    refresh: bool = False,
    max_streams: int = 4,
    progress: Progress | None = None,
    log: Progress | None = None,
    **settings: Any,
) -> "SnapshotReport":
    """Read what a run over [start, end] needs from the nine source tables (Storage Read API)
    into a format-1 snapshot in `out`; reuse `out` when it already covers the request.

    `log` gets the lines worth keeping (reuse decisions, resumed streams)."""
    check_dates(start, end)
    out = check_output_folder(out)
    config = _config(config, settings)
    from fsengine.snapshot.read import take_snapshot

    note = progress or (lambda message: None)
    return take_snapshot(config, start, end, out, refresh=refresh, max_streams=max_streams,
                         progress=lambda p: note(_table_progress_text(p)), log=log)


def push(
    out: str | Path,
    *,
    config: "Config | None" = None,
    dataset: str | None = None,
    table: str | None = None,
    replace: bool = False,
    dry_run: bool = False,
    progress: Progress | None = None,
    **settings: Any,
) -> "PushReport":
    """Write the rows of OUT/ml_feature_store_v2/ into the target with one load and one MERGE
    (whole or not at all); `dry_run` checks everything and returns the statements unsent."""
    config = _config(config, settings)
    from fsengine.push import push_with_config

    return push_with_config(out, config, dataset=dataset, table=table, replace=replace, dry_run=dry_run,
                            progress=progress)


@dataclass
class RunReport:
    snapshot: "SnapshotReport"
    backfill: BackfillReport
    push: "PushReport"

    def render(self) -> str:
        return "\n".join([self.snapshot.render(), self.backfill.summary(), self.push.render()])


def run(
    start: dt.date,
    end: dt.date,
    *,
    snapshot_dir: str | Path = "snapshot",
    out: str | Path = "out",
    mode: str | Mode = Mode.AUTO,
    as_of: dt.date | None = None,
    replace: bool = False,
    dry_run: bool = False,
    refresh: bool = False,
    max_streams: int = 4,
    dataset: str | None = None,
    table: str | None = None,
    config: "Config | None" = None,
    progress: Progress | None = None,
    log: Progress | None = None,
    on_stage: Callable[[Any], None] | None = None,
    **settings: Any,
) -> RunReport:
    """Fix the table for [start, end]: snapshot (reused when it covers the range) + backfill +
    push. `on_stage` gets each stage's report as soon as that stage is done (the snapshot's,
    then the backfill's), so a caller can show them before the push starts."""
    # every argument is checked before the first BigQuery call
    check_dates(start, end)
    mode = parse_mode(mode)
    check_output_folder(snapshot_dir, "--snapshot")
    check_output_folder(out)
    config = _config(config, settings)
    stage_done = on_stage or (lambda report: None)

    snap = snapshot(snapshot_dir, start, end, config=config, refresh=refresh, max_streams=max_streams,
                    progress=progress, log=log)
    stage_done(snap)
    rows = backfill(out, snapshot_dir, start, end, mode=mode, as_of=as_of, progress=progress)
    stage_done(rows)
    pushed = push(out, config=config, dataset=dataset, table=table, replace=replace, dry_run=dry_run,
                  progress=progress)
    return RunReport(snap, rows, pushed)
