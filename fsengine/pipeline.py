"""The four jobs as library calls, each returning a report (a dataclass) and raising an
fsengine.errors.FsengineError (with its exit code) when it cannot be done:

    backfill(out, snapshot, start, end)    snapshot -> engine -> scoring -> Parquet
    snapshot(out, start, end, ...)         BigQuery (Storage Read) -> snapshot (format 2)
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
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fsengine.contracts import Contract, contract_of, resolve_contract
from fsengine.contracts.profile import Profile
from fsengine.errors import EmptyRunError, InputError, OutOfMemory, OutputError
from fsengine.output.schema import RUN_RECORD, TABLE_NAME
from fsengine.paths import check_output_folder
from fsengine.snapshot.format import Snapshot
from fsengine.snapshot.sources import CONTRACT_SOURCES

if TYPE_CHECKING:  # the BigQuery side is imported only by the calls that use it
    from fsengine.config import Config
    from fsengine.push.report import PushReport
    from fsengine.snapshot.read import SnapshotReport

Progress = Callable[[str], None]

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
    chunk_dates: int | None = None,
    workers: int | None = None,
    chunk: tuple[int, int] | None = None,
    profile: Profile | None = None,
    contract: str | Path | Contract | None = None,
    allow_empty: bool = False,
    memory_limit: str | None = None,
) -> BackfillReport:
    """Compute every row of [start, end] under `contract` (a bundled contract's name, a contract
    file's path or a Contract; the profile follows from it) and write them to
    OUT/ml_feature_store_v2. Without `contract`, `profile` (and its contract) when given, else
    DEFAULT_RUN_CONTRACT, v2_54features (README D54-1).

    The range is split into chunks of `chunk_dates` consecutive game dates (None: sized from
    the rows per date so that memory stays bounded), computed by `workers` processes (None:
    one per CPU); the rows do not depend on either. `chunk=(i, n)` computes only the i-th of n
    near-equal parts of the range, for runs spread over n machines (see `plan`).

    A run that produces no row at all for a range the snapshot covers is refused (EmptyRunError,
    the previous output untouched) unless `allow_empty`. `memory_limit` is DuckDB's
    memory_limit ("4GB", "75%") for the whole run, shared by the workers; default: 75% of the
    cgroup or address-space limit, if any.
    """
    # everything a caller can get wrong is refused before the snapshot is even opened
    out = check_output_folder(out)
    mode = parse_mode(mode).value
    check_dates(start, end)

    from fsengine.engine.session import Session
    from fsengine.output.schema import write_output
    from fsengine.workers import ChunkTask, default_workers, run_chunks, threads_per_worker

    began = time.perf_counter()
    if contract is not None or profile is None:
        try:
            profile = resolve_contract(contract).profile
        except ValueError as exc:
            raise InputError(str(exc)) from None
    note = progress or (lambda message: None)
    snapshot = Snapshot.open(snapshot_path or default_snapshot(), verify_checksums=verify_checksums)
    if profile.contract in CONTRACT_SOURCES and profile.contract not in snapshot.declared:
        # docs/v2_54/sources.md §5 rule 2: a snapshot not taken for the run's contract (a format-1
        # one for v2_54features) is refused before anything is computed, saying what it lacks.
        snapshot.require(profile.contract)
    start, end = resolve_range(snapshot, start, end)
    _check_out(out)
    run_limit = memory_limit or default_memory_limit()
    # One engine session plans the run and computes the chunks computed in this process (one
    # connection and one set of views for the whole run); worker processes open their own.
    with Session(snapshot, profile, None, run_limit, bounds=(start, end)) as session:
        workers = workers or default_workers()
        plan = plan_run(
            snapshot, start, end, mode, as_of, chunk_dates=chunk_dates, chunk=chunk, session=session, workers=workers
        )
        start, end = plan.start, plan.end
        workers = min(workers, len(plan.chunks))
        note(
            f"snapshot {snapshot.path}: run {start} .. {end}, mode {mode}, "
            f"{len(plan.chunks)} chunk(s) of <= {plan.dates_per_chunk} game dates, {workers} worker(s)"
        )
        limit = _per_worker(run_limit, workers)
        if workers > 1:  # this process computes its share of the chunks on the session it planned on
            session.share(threads_per_worker(workers), limit)
        run_ts = dt.datetime.now(dt.UTC)
        tasks = [
            ChunkTask(
                snapshot.path,
                c,
                mode,
                plan.as_of,
                run_ts,
                threads_per_worker(workers) if workers > 1 else None,
                profile,
                limit,
            )
            for c in plan.chunks
        ]
        per_date: dict[dt.date, int] = {}
        timings: dict[str, float] = {}

        def output_parts():
            # worker processes hand their parts over in a folder beside the staged output
            chunks = run_chunks(tasks, workers, out / TABLE_NAME, note, snapshot=snapshot, session=session)
            for result in chunks:
                for name, seconds in result.timings.items():
                    timings[name] = timings.get(name, 0.0) + seconds
                for day, count in result.rows_per_date.items():
                    per_date[day] = per_date.get(day, 0) + count
                yield from result.take_parts()
            if not per_date and not allow_empty:
                # Raised inside the writer's input: the staged output is dropped, nothing is replaced.
                raise EmptyRunError(
                    f"the run {start} .. {end} produced no row although snapshot {snapshot.path} covers that range "
                    f"({_spine_rows(snapshot)}); the previous output in {out} is untouched. Check the snapshot, or "
                    "pass --allow-empty to write an empty output"
                )

        t0 = time.perf_counter()
        record = run_record(snapshot.path, start, end, mode, as_of, chunk=chunk, contract=profile.contract)
        try:
            written = write_output(output_parts(), out, contract=contract_of(profile), run_record=record)
        except MemoryError:  # Polars / pyarrow allocations outside DuckDB's limit
            raise OutOfMemory(
                f"ran out of memory computing {start} .. {end}; nothing was replaced in {out}. Run a smaller date "
                "range or smaller chunks (--chunk-dates), or lower --memory-limit to leave more room outside the engine"
            ) from None
        if workers <= 1:  # in one process the stages add up to the wall time; the rest is writing
            staged = sum(timings.values())
            timings["write"] = max(0.0, time.perf_counter() - t0 - staged)
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
    snapshot: Snapshot, start: dt.date, end: dt.date, mode: str, as_of: dt.date | None, session=None
) -> tuple[dt.date, dict[dt.date, int]]:
    """The run's as-of date and, per game date it can produce, the number of spine candidates
    (counted on `session`, the run's engine Session, when given; else on a connection of its own)."""
    from fsengine.engine.compute import default_as_of, production_from, validate_run
    from fsengine.engine.extract import run_query
    from fsengine.engine.session import connect

    validate_run(start, end, mode, as_of)
    as_of = as_of or default_as_of()
    snapshot.check_coverage(start, end)
    con = connect(1) if session is None else session.restrict((start, end))
    try:
        if session is None:
            snapshot.register(con, bounds=(start, end))
        run_query(
            con, "run_dates", {"start": start, "end": end, "production_from": production_from(mode, start, as_of)}
        )
        counted = con.execute("SELECT game_date, rows FROM run_dates ORDER BY game_date").fetchall()
        con.execute("DROP TABLE run_dates")
    finally:
        if session is None:
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
    session=None,
    workers: int = 1,
) -> RunPlan:
    """The chunks one process computes: the whole range, or with `chunk=(i, n)` the i-th of the
    n near-equal parts `plan_machines` gives, cut into chunks of `chunk_dates` game dates
    (None: sized from the rows per date, in a multiple of `workers` chunks when there are
    several). `session`: the run's engine Session to plan on."""
    from fsengine.engine.chunks import auto_dates_per_chunk, plan_chunks, split_for_machines

    as_of, rows_by_date = _run_dates(snapshot, start, end, mode, as_of, session)
    dates = list(rows_by_date)
    if chunk is not None:
        index, count = chunk
        part = split_for_machines(start, end, dates, count)[index - 1]
        start, end = part.start, part.end
        dates = [d for d in dates if start <= d <= end]
    rows = sum(rows_by_date[d] for d in dates)
    size = chunk_dates or auto_dates_per_chunk(rows, len(dates), workers=workers)
    return RunPlan(start, end, as_of, dates, rows, size, plan_chunks(start, end, dates, size))


def plan_machines(
    snapshot: Snapshot, start: dt.date, end: dt.date, count: int, mode: str = "auto", as_of: dt.date | None = None
) -> list:
    """[start, end] as `count` independent parts of nearly equal game dates (one per machine)."""
    from fsengine.engine.chunks import split_for_machines

    _, rows_by_date = _run_dates(snapshot, start, end, mode, as_of)
    return split_for_machines(start, end, list(rows_by_date), count)


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


def run_record(
    snapshot_path: Path,
    start: dt.date,
    end: dt.date,
    mode: str,
    as_of: dt.date | None,
    chunk: tuple[int, int] | None = None,
    contract: str | None = None,
) -> dict:
    """What OUT records about the run that wrote it (read by `explain`, `report` and `push`)."""
    return {
        "snapshot": str(Path(snapshot_path).resolve()),
        "start": start.isoformat(),
        "end": end.isoformat(),
        "mode": mode,
        "as_of": as_of.isoformat() if as_of else None,
        "chunk": f"{chunk[0]}/{chunk[1]}" if chunk else None,
        "contract": contract,
    }


def _per_worker(limit: str | None, workers: int) -> str | None:
    """The run's memory limit shared out between its workers (a DuckDB size such as 4GB or 3000MB)."""
    if limit is None or workers <= 1:
        return limit
    import re

    match = re.fullmatch(r"\s*([0-9.]+)\s*([KMGT]?B)\s*", limit, re.I)
    if match is None:
        return limit  # a percentage or another form DuckDB understands: each worker gets it as is
    units = {"B": 1, "KB": 2**10, "MB": 2**20, "GB": 2**30, "TB": 2**40}
    total = float(match[1]) * units[match[2].upper()]
    return f"{max(1, int(total / workers) // 2**20)}MB"


def record_run(
    out: str | Path, snapshot_path: Path, start: dt.date, end: dt.date, mode: str, as_of: dt.date | None, **more
) -> None:
    """Note beside the rows which snapshot and options produced them (read by `explain`)."""
    from fsengine.output.write import write_file

    write_file(
        Path(out) / RUN_RECORD, json.dumps(run_record(snapshot_path, start, end, mode, as_of, **more), indent=2) + "\n"
    )


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


# --------------------------------------------------------------------------- the BigQuery jobs


def _config(config: Config | None, settings: dict[str, Any]) -> Config:
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
    config: Config | None = None,
    refresh: bool = False,
    max_streams: int = 4,
    progress: Progress | None = None,
    log: Progress | None = None,
    contracts: list[str] | None = None,
    **settings: Any,
) -> SnapshotReport:
    """Read what a run over [start, end] of `contracts` (default: every contract) needs from the
    source tables (Storage Read API) into a format-2 snapshot in `out`; reuse `out` when it
    already covers the request.

    `log` gets the lines worth keeping (reuse decisions, resumed streams)."""
    check_dates(start, end)
    out = check_output_folder(out)
    config = _config(config, settings)
    from fsengine.snapshot.read import take_snapshot

    note = progress or (lambda message: None)
    return take_snapshot(
        config,
        start,
        end,
        out,
        refresh=refresh,
        max_streams=max_streams,
        progress=lambda p: note(_table_progress_text(p)),
        log=log,
        contracts=contracts,
    )


def push(
    out: str | Path | Sequence[str | Path],
    *,
    config: Config | None = None,
    dataset: str | None = None,
    table: str | None = None,
    replace: bool = False,
    dry_run: bool = False,
    progress: Progress | None = None,
    contract: str | Contract | None = None,
    replace_contract: bool = False,
    diff_features: bool = False,
    only_stale: bool = False,
    show: Progress | None = None,
    **settings: Any,
) -> PushReport:
    """Write the rows of OUT/ml_feature_store_v2/ into the target with one load and one MERGE
    (whole or not at all); `dry_run` checks everything and returns the statements unsent.
    `out` may be several run folders or a folder of chunk folders (the parts of `plan`): one
    load and one MERGE for all of them. With `contract`, rows of another contract are refused
    (PushRefused) before any call."""
    config = _config(config, settings)
    from fsengine.push import push_with_config

    return push_with_config(
        out,
        config,
        dataset=dataset,
        table=table,
        replace=replace,
        dry_run=dry_run,
        progress=progress,
        replace_contract=replace_contract,
        diff_features=diff_features,
        only_stale=only_stale,
        show=show,
        contract=contract,
    )


@dataclass
class RunReport:
    snapshot: SnapshotReport
    backfill: BackfillReport
    push: PushReport

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
    config: Config | None = None,
    progress: Progress | None = None,
    log: Progress | None = None,
    on_stage: Callable[[Any], None] | None = None,
    contract: str | Path | Contract | None = None,
    only_stale: bool = False,
    replace_contract: bool = False,
    show: Progress | None = None,
    **settings: Any,
) -> RunReport:
    """Fix the table for [start, end]: snapshot (reused when it covers the range) + backfill +
    push, of `contract` (default DEFAULT_RUN_CONTRACT, v2_54features: the backfill computes it
    and the push refuses rows of another one; the snapshot serves every contract, as before). `on_stage` gets each
    stage's report as soon as that stage is done (the snapshot's, then the backfill's), so a
    caller can show them before the push starts."""
    # every argument is checked before the first BigQuery call
    check_dates(start, end)
    mode = parse_mode(mode)
    try:
        chosen = resolve_contract(contract)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    check_output_folder(snapshot_dir, "--snapshot")
    check_output_folder(out)
    config = _config(config, settings)
    stage_done = on_stage or (lambda report: None)

    snap = snapshot(
        snapshot_dir, start, end, config=config, refresh=refresh, max_streams=max_streams, progress=progress, log=log
    )
    stage_done(snap)
    rows = backfill(out, snapshot_dir, start, end, mode=mode, as_of=as_of, progress=progress, contract=chosen)
    stage_done(rows)
    # --only-stale: every date is computed (staleness includes "differs from a fresh computation"),
    # the push reads the target first and sends only the stale dates' rows; its report lists them
    pushed = push(
        out,
        config=config,
        dataset=dataset,
        table=table,
        replace=replace,
        dry_run=dry_run,
        progress=progress,
        only_stale=only_stale,
        replace_contract=replace_contract,
        show=show,
        contract=chosen,
    )
    return RunReport(snap, rows, pushed)
