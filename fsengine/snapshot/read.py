"""`fsengine snapshot`: read the source tables from BigQuery into a format-2 snapshot
(docs/sources.md §3.2-§4; docs/v2_54/sources.md §1-§6).

What is read follows the chosen contracts (`--contract`, repeatable; default every contract):
the union of their tables and columns, each table over the union of their windows for the run
(fsengine.snapshot.sources.CONTRACT_SOURCES); the manifest's `contracts` lists them.

Each table is read through the Storage Read API in Arrow format with its column list, the
exact date row restriction of §3.2 (plus the points filter for BettingPros) and one
`snapshot_time` shared by all tables. The streams of all tables run in a small thread pool;
every stream is decoded message by message with pyarrow.ipc and written straight to its own
Parquet file, so no table is ever held in memory. A stream that drops with a transient error
resumes at its row offset a bounded number of times. The manifest is written last, by
SnapshotWriter, so an interrupted snapshot leaves no manifest behind.

Before reading, the live schema of every table is fetched (tables.get): the manifest records
the live column types, and an existing snapshot in `out` whose bounds, sources and column
types already satisfy the request is reused without reading anything.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import shutil
import threading
import time
import warnings
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.ipc as ipc

from fsengine.bigquery.clients import bigquery_client as make_bigquery_client
from fsengine.bigquery.clients import read_client as make_read_client
from fsengine.bigquery.types import ARROW_TYPES, normalise_type
from fsengine.config import Config
from fsengine.errors import ConfigError, InputError, SnapshotError, StreamLost, Unreachable
from fsengine.snapshot.format import (
    MANIFEST,
    Snapshot,
    SnapshotWriter,
    TableRead,
    TableWriter,
    rfc3339,
)
from fsengine.snapshot.sources import (
    MINUTES_ALTERNATIVES,
    SourceTable,
    check_contracts,
    columns_for,
    required_bounds,
    tables_for,
)

DEFAULT_MAX_STREAMS = 4
DEFAULT_MAX_RESUMES = 5
# INTERNAL errors that are known transport hiccups, safe to resume after (the Google
# client library resumes on RST_STREAM for the same reason).
_RETRYABLE_INTERNAL = ("rst_stream", "unexpected eos", "retry")


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class TableProgress:
    """Reported while reading: rows and Arrow bytes received so far for one table."""

    key: str
    source: str
    rows: int
    bytes: int
    streams_done: int
    streams: int

    @property
    def finished(self) -> bool:
        return self.streams_done == self.streams


@dataclass(frozen=True)
class TableSummary:
    key: str
    source: str
    start: dt.date
    end: dt.date
    rows: int
    bytes: int  # Parquet bytes on disk
    files: int
    streams: int
    resumes: int
    column_types: dict[str, str]


@dataclass
class SnapshotReport:
    out: Path
    reused: bool
    snapshot_time: dt.datetime | None
    tables: dict[str, TableSummary] = field(default_factory=dict)
    messages: list[str] = field(default_factory=list)
    seconds: float = 0.0
    contracts: tuple[str, ...] = ()  # what the snapshot in `out` declares

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables.values())

    @property
    def bytes(self) -> int:
        return sum(t.bytes for t in self.tables.values())

    def render(self) -> str:
        lines = list(self.messages)
        for t in self.tables.values():
            lines.append(
                f"{t.key:<45} {t.start} .. {t.end}  {t.rows:>10} rows  {t.bytes:>12} bytes  "
                f"{t.files} file(s), {t.streams} stream(s){f', {t.resumes} resume(s)' if t.resumes else ''}"
            )
        verb = "reused" if self.reused else "written"
        serves = f", contracts {', '.join(self.contracts)}" if self.contracts else ""
        lines.append(
            f"snapshot {verb}: {self.out} ({self.rows} rows, {self.bytes} bytes, {self.seconds:.1f} s{serves})"
        )
        return "\n".join(lines)


# --------------------------------------------------------------------------- live schemas


def _not_found(bq, config: Config, key: str, table_id: str, exc: Exception) -> SnapshotError:
    """Say which part of project.dataset.table does not exist (as far as these credentials see)."""
    from google.api_core import exceptions as gexc

    dataset_id = table_id.rsplit(".", 1)[0]
    from google.cloud import bigquery

    try:
        bq.get_dataset(
            dataset_id, timeout=config.call_timeout, retry=bigquery.DEFAULT_RETRY.with_timeout(config.call_timeout)
        )
    except gexc.NotFound:
        return SnapshotError(
            f"source table {key}: dataset {dataset_id} not found (no such project or dataset, or not visible "
            f"with these credentials); looked for table {table_id}"
        )
    except (gexc.GoogleAPIError, OSError, ValueError):
        pass
    return SnapshotError(f"source table {key}: table {table_id} not found ({getattr(exc, 'message', exc)})")


def _short(exc: BaseException) -> str:
    """The kind of a transport error without the library's long text (which may quote URLs)."""
    from fsengine.config import redact_url

    text = str(exc).split("(Caused by")[0].strip()
    return redact_url(f"{type(exc).__name__}: {text[:200]}")


def live_column_types(bq, config: Config, table: SourceTable, columns: list[str] | None = None) -> dict[str, str]:
    """BigQuery type of every column the engine reads (`columns`, default the table's base
    columns), from the live table (tables.get), in the order of fsengine.snapshot.sources;
    refuses what a snapshot reader would refuse (§3.4)."""
    from google.api_core import exceptions as gexc
    from google.cloud import bigquery

    table_id = config.table_id(table.key)
    try:
        live = bq.get_table(
            table_id, timeout=config.call_timeout, retry=bigquery.DEFAULT_RETRY.with_timeout(config.call_timeout)
        )
    except gexc.NotFound as exc:
        raise _not_found(bq, config, table.key, table_id, exc) from None
    except gexc.GoogleAPICallError as exc:
        if _unreachable_call(exc):
            raise Unreachable(
                f"source table {table_id}: no answer from the {api_endpoint_text(config)} within the "
                f"call timeout of {config.call_timeout:g} s ({exc.message})"
            ) from None
        raise SnapshotError(f"source table {table_id}: tables.get failed: {exc.message}") from None
    except (gexc.RetryError, OSError) as exc:  # requests' ConnectionError / Timeout are OSErrors
        cause = exc.cause if isinstance(exc, gexc.RetryError) and exc.cause is not None else exc
        raise Unreachable(
            f"source table {table_id}: the {api_endpoint_text(config)} was unreachable or did not answer within the call timeout of "
            f"{config.call_timeout:g} s ({_short(cause)})"
        ) from None
    fields = {f.name: f for f in live.schema}
    types: dict[str, str] = {}
    for col in table.columns if columns is None else [table.column(n) for n in columns]:
        if col.name not in fields:
            raise SnapshotError(f"source table {table_id} has no column {col.name} (has {sorted(fields)})")
        f = fields[col.name]
        got = normalise_type(f.field_type)
        if f.mode == "REPEATED" or got not in ARROW_TYPES:
            raise SnapshotError(f"{table_id}.{col.name} is {f.mode} {f.field_type}; expected {col.bq_type}")
        minutes_alternative = table.key == "nba_analytics.player_game_summary" and col.name == "minutes_played"
        if got != col.bq_type and not (minutes_alternative and got in MINUTES_ALTERNATIVES):
            raise SnapshotError(f"{table_id}.{col.name} is {got} in BigQuery; the engine expects {col.bq_type}")
        if minutes_alternative and got == "FLOAT64":
            warnings.warn(f"{table_id}.minutes_played is FLOAT64; the engine treats it like INT64", stacklevel=2)
        types[col.name] = got
    return types


# --------------------------------------------------------------------------- reuse decision


def _hull_if_touching(old: tuple[dt.date, dt.date], new: tuple[dt.date, dt.date]):
    """The smallest range holding both, if they overlap or touch; else None."""
    if old[0] <= new[1] + dt.timedelta(days=1) and new[0] <= old[1] + dt.timedelta(days=1):
        return min(old[0], new[0]), max(old[1], new[1])
    return None


def plan_reads(
    out: Path,
    config: Config,
    live: dict[str, dict[str, str]],
    needed: dict[str, tuple[dt.date, dt.date]],
    refresh: bool,
    contracts: tuple[str, ...] | None = None,
) -> tuple[dict[str, tuple[dt.date, dt.date]] | None, list[str]]:
    """Decide what to read: (None, messages) when `out` can be reused as it is, else the bounds
    per table to read and the messages saying why.

    Any change re-reads all the tables, because every table of one snapshot must share one
    snapshot_time (§3.2). A request that extends an existing snapshot's range keeps the old
    range too when the two overlap or touch. `contracts` are the request's; a snapshot taken
    for other contracts is read anew (docs/v2_54/sources.md §5)."""
    if refresh:
        return dict(needed), ["--refresh: reading every table again"]
    if not (out / MANIFEST).is_file():
        return dict(needed), []
    try:
        existing = Snapshot.open(out)
    except SnapshotError as exc:
        return dict(needed), [f"{out} holds no valid snapshot ({exc}); reading every table anew"]
    problems: list[str] = []
    extendable = True
    lacking = [c for c in (contracts or ()) if c not in existing.declared]
    if lacking:
        problems.append(
            f"{out} was taken for contracts [{', '.join(existing.declared)}], this request is for "
            f"[{', '.join(contracts or ())}]"
        )
        extendable = False
    for key, need in needed.items():
        if key not in existing.tables:
            continue  # only when the contracts differ, said above
        have = existing.tables[key]
        source = existing.manifest["tables"][key].get("source")
        if source != config.table_id(key):
            problems.append(f"{key} was read from {source}, this run reads {config.table_id(key)}")
            extendable = False
        changed = [
            f"{c} {have.column_types.get(c)} -> {t}" for c, t in live[key].items() if have.column_types.get(c) != t
        ]
        if changed:
            problems.append(f"{key}: column types changed in BigQuery ({', '.join(changed)})")
            extendable = False
        if have.start > need[0] or have.end < need[1]:
            problems.append(f"{key} covers {have.start} .. {have.end}, the request needs {need[0]} .. {need[1]}")
    if not problems:
        return None, [
            f"{out} already holds a snapshot covering the request with the live schemas; read nothing "
            "(--refresh reads again)"
        ]
    bounds = dict(needed)
    note = ""
    if extendable:
        hulls = {k: _hull_if_touching((existing.tables[k].start, existing.tables[k].end), needed[k]) for k in needed}
        if all(h is not None for h in hulls.values()):
            bounds = hulls
            note = " (keeping the range already held, so the snapshot still serves it)"
        else:
            note = " (the old range does not touch the new one and is dropped)"
    head = f"re-reading all {len(needed)} tables at one new snapshot time{note} because:"
    dropped = [c for c in existing.declared if contracts is not None and c not in contracts]
    tail = (
        [
            f"the new snapshot serves [{', '.join(contracts or ())}] only, no longer {', '.join(dropped)} (name every "
            "contract to keep with --contract)"
        ]
        if dropped
        else []
    )
    return bounds, [head, *(f"  - {p}" for p in problems), *tail]


# --------------------------------------------------------------------------- stream reading


def _not_allocated_yet(exc: Exception) -> bool:
    """FAILED_PRECONDITION "offset ... has not been allocated yet": the server has not produced
    the stream that far yet (a stream still being written); ask again after a while."""
    from google.api_core import exceptions as gexc

    return isinstance(exc, gexc.FailedPrecondition) and "not been allocated" in str(exc.message).lower()


def storage_endpoint_text(config: Config) -> str:
    from fsengine.config import redact_url

    return f"Storage Read endpoint {redact_url(config.storage_endpoint) or 'bigquerystorage.googleapis.com:443'}"


def api_endpoint_text(config: Config) -> str:
    from fsengine.config import redact_url

    return f"BigQuery API endpoint {redact_url(config.api_endpoint) or 'https://bigquery.googleapis.com'}"


def _unreachable_call(exc: Exception) -> bool:
    from google.api_core import exceptions as gexc

    return isinstance(exc, (gexc.ServiceUnavailable, gexc.DeadlineExceeded))


def _within(total: float, what: str, endpoint: str, call: Callable[[float], object]):
    """call(timeout) retried on transient errors with back-off, all of it within `total` seconds
    (the client library's default retry would go on for 600 s, whatever our timeout)."""
    from google.api_core import exceptions as gexc

    began = time.monotonic()
    deadline = began + total
    attempt = 0
    while True:
        remaining = deadline - time.monotonic()
        try:
            return call(max(remaining, 0.01))
        except gexc.GoogleAPICallError as exc:
            if not (_is_retryable(exc) or _not_allocated_yet(exc)):
                raise
            delay = min(0.25 * 2**attempt, 4.0)
            if time.monotonic() + delay >= deadline:
                raise Unreachable(
                    f"{what}: no usable answer from the {endpoint} within the call timeout of {total:g} s "
                    f"({time.monotonic() - began:.1f} s, {attempt + 1} attempt(s); last: {type(exc).__name__}: "
                    f"{exc.message})"
                ) from None
            time.sleep(delay)
            attempt += 1


def _is_retryable(exc: Exception) -> bool:
    from google.api_core import exceptions as gexc

    if isinstance(exc, (gexc.ServiceUnavailable, gexc.DeadlineExceeded, gexc.ResourceExhausted)):
        return True
    if isinstance(exc, gexc.InternalServerError):
        return any(text in str(exc.message).lower() for text in _RETRYABLE_INTERNAL)
    return False


@dataclass
class _TablePlan:
    table: SourceTable
    source: str
    read: TableRead
    session_schema: pa.Schema
    streams: list[str]
    writers: list[TableWriter] = field(default_factory=list)
    stream_rows: list[int] = field(default_factory=list)
    rows: int = 0
    bytes: int = 0
    done: int = 0
    resumes: int = 0


class _Reader:
    """Runs every stream of every table in a thread pool; stops them all on the first failure."""

    def __init__(
        self,
        config: Config,
        client,
        staging: Path,
        max_streams: int,
        max_resumes: int,
        progress: Callable[[TableProgress], None] | None,
        log: Callable[[str], None],
    ):
        self.config = config
        self.client = client
        self.scratch = staging / ".streams"
        self.max_streams = max_streams
        self.max_resumes = max_resumes
        self.progress = progress
        self.log = log
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.calls: set = set()
        self.activity: dict = {}  # open call -> time of its last message
        self.stalled: set = set()  # calls the watchdog cancelled
        self.idle_limit = min(config.call_timeout, config.read_timeout)

    def run(self, plans: list[_TablePlan]) -> None:
        jobs = [(plan, i) for plan in plans for i in range(len(plan.streams))]
        for plan in plans:
            plan.stream_rows = [0] * len(plan.streams)
            plan.writers = [
                TableWriter(self.scratch / f"{plan.table.key}.{i:05d}", plan.read) for i in range(len(plan.streams))
            ]
        watchdog = threading.Thread(target=self._watch, name="fsengine-read-watchdog", daemon=True)
        watchdog.start()
        pool = ThreadPoolExecutor(max_workers=self.max_streams, thread_name_prefix="fsengine-read")
        futures = [pool.submit(self._read_stream, plan, i) for plan, i in jobs]
        try:
            finished, _ = wait(futures, return_when=FIRST_EXCEPTION)
            failed = [f for f in finished if f.exception() is not None]
            if failed:
                error = failed[0].exception()
                assert error is not None
                raise error
        finally:
            self.stop.set()
            with self.lock:
                for call in list(self.calls):
                    call.cancel()
            pool.shutdown(wait=True, cancel_futures=True)
            watchdog.join()

    def _watch(self) -> None:
        """Cancel a stream call that has received nothing for `idle_limit` seconds (a server
        that accepted the call and went silent); the reader resumes it or gives up."""
        while not self.stop.wait(min(0.1, self.idle_limit / 4)):
            now = time.monotonic()
            with self.lock:
                stalled = [call for call, last in self.activity.items() if now - last > self.idle_limit]
                for call in stalled:
                    self.stalled.add(call)
                    del self.activity[call]
            for call in stalled:
                call.cancel()

    def _open(self, name: str, offset: int, timeout: float):
        from google.cloud.bigquery_storage_v1 import types
        from google.cloud.bigquery_storage_v1.services.big_query_read import BigQueryReadClient as GapicReadClient

        # The plain GAPIC call (no built-in reconnect loop): resumption is ours, and bounded.
        return GapicReadClient.read_rows(
            self.client,
            request=types.ReadRowsRequest(read_stream=name, offset=offset),
            retry=None,
            timeout=timeout,
        )

    def _read_stream(self, plan: _TablePlan, index: int) -> None:
        from google.api_core import exceptions as gexc

        name = plan.streams[index]
        writer = plan.writers[index]
        columns = list(plan.read.column_types)
        offset = 0
        attempt = 0
        waits = 0
        began = time.monotonic()
        deadline = began + self.config.read_timeout
        where = f"reading {plan.source} (stream {index}) from the {storage_endpoint_text(self.config)}"
        while True:
            if self.stop.is_set():
                return
            call = None
            try:
                call = self._open(name, offset, max(deadline - time.monotonic(), 0.01))
                with self.lock:
                    self.calls.add(call)
                    self.activity[call] = time.monotonic()
                for response in call:
                    if self.stop.is_set():
                        return
                    with self.lock:
                        if call in self.activity:
                            self.activity[call] = time.monotonic()
                    payload = response.arrow_record_batch.serialized_record_batch
                    try:
                        batch = ipc.read_record_batch(pa.py_buffer(payload), plan.session_schema)
                    except pa.ArrowException as exc:
                        raise SnapshotError(
                            f"reading {plan.source} (stream {index}): undecodable Arrow batch at row {offset}: {exc}"
                        ) from exc
                    writer.write(batch.select(columns))
                    offset += batch.num_rows
                    plan.stream_rows[index] = offset
                    self._advance(plan, batch.num_rows, len(payload), stream_done=False)
                with self.lock:
                    if call in self.stalled:  # cancelled by the watchdog as the last message came
                        raise gexc.DeadlineExceeded(f"no data for {self.idle_limit:g} s")
                break
            except gexc.GoogleAPICallError as caught:
                # a stream silenced by the watchdog reports as a deadline, whatever the call raised
                failure: gexc.GoogleAPICallError = caught
                if self.stop.is_set():
                    return
                with self.lock:
                    stalled = call in self.stalled
                if stalled:
                    failure = gexc.DeadlineExceeded(f"no data for {self.idle_limit:g} s (the server went silent)")
                elapsed = time.monotonic() - began
                if _not_allocated_yet(failure):
                    # the server has not produced the stream that far yet: wait, within the read timeout
                    delay = min(0.1 * 2**waits, 2.0)
                    if time.monotonic() + delay >= deadline:
                        raise SnapshotError(
                            f"{where}: row {offset} was still not available after the read timeout of "
                            f"{self.config.read_timeout:g} s ({failure.message})"
                        ) from None
                    waits += 1
                    time.sleep(delay)
                    continue
                if not _is_retryable(failure) or attempt >= self.max_resumes:
                    why = "not transient" if not _is_retryable(failure) else f"gave up after {attempt} resumes"
                    error = StreamLost if _unreachable_call(failure) else SnapshotError
                    raise error(f"{where} failed at row {offset} after {elapsed:.1f} s ({why}): {failure}") from None
                delay = min(0.5 * 2**attempt, 8.0)
                if time.monotonic() + delay >= deadline:
                    error = StreamLost if _unreachable_call(failure) else SnapshotError
                    raise error(
                        f"{where} failed at row {offset}: the read timeout of {self.config.read_timeout:g} s "
                        f"ran out after {attempt} resume(s) ({type(failure).__name__}: {failure.message})"
                    ) from None
                attempt += 1
                with self.lock:
                    plan.resumes += 1
                self.log(
                    f"{plan.table.key}: stream {index} dropped at row {offset} ({type(failure).__name__}: "
                    f"{failure.message}); resuming there (resume {attempt} of at most {self.max_resumes})"
                )
                time.sleep(delay)
            finally:
                if call is not None:
                    with self.lock:
                        self.calls.discard(call)
                        self.activity.pop(call, None)
                        self.stalled.discard(call)
        self._advance(plan, 0, 0, stream_done=True)

    def _advance(self, plan: _TablePlan, rows: int, size: int, stream_done: bool) -> None:
        with self.lock:
            plan.rows += rows
            plan.bytes += size
            plan.done += stream_done
            event = TableProgress(plan.table.key, plan.source, plan.rows, plan.bytes, plan.done, len(plan.streams))
            if self.progress is not None:
                self.progress(event)


def _open_session(
    client,
    config: Config,
    table: SourceTable,
    start: dt.date,
    end: dt.date,
    snapshot_time: dt.datetime,
    max_streams: int,
    columns: list[str] | None = None,
):
    from google.api_core import exceptions as gexc
    from google.cloud.bigquery_storage_v1 import types
    from google.protobuf import timestamp_pb2

    ref = config.tables[table.key]
    pinned = timestamp_pb2.Timestamp()
    pinned.FromDatetime(snapshot_time)
    requested = types.ReadSession(
        table=f"projects/{config.project}/datasets/{ref.dataset}/tables/{ref.table}",
        data_format=types.DataFormat.ARROW,
        read_options=types.ReadSession.TableReadOptions(
            selected_fields=columns if columns is not None else table.column_names,
            row_restriction=table.row_restriction(start, end),
        ),
        table_modifiers=types.ReadSession.TableModifiers(snapshot_time=pinned),
    )
    try:
        return _within(
            config.call_timeout,
            f"opening a Storage Read session on {config.table_id(table.key)}",
            storage_endpoint_text(config),
            lambda timeout: client.create_read_session(
                parent=f"projects/{config.project}",
                read_session=requested,
                max_stream_count=max_streams,
                retry=None,
                timeout=timeout,
            ),
        )
    except gexc.GoogleAPICallError as exc:
        raise SnapshotError(f"could not open a Storage Read session on {config.table_id(table.key)}: {exc}") from None


def _session_schema(session, types: dict[str, str], source: str) -> pa.Schema | None:
    """The Arrow schema every stream of the session is decoded with, checked against the live types."""
    if not session.arrow_schema.serialized_schema:
        if session.streams:
            raise SnapshotError(f"{source}: the Storage Read session has streams but no Arrow schema")
        return None
    schema = ipc.read_schema(pa.py_buffer(session.arrow_schema.serialized_schema))
    for name, bq_type in types.items():
        if name not in schema.names:
            raise SnapshotError(f"{source}: the Storage Read session did not return column {name}")
        if schema.field(name).type != ARROW_TYPES[bq_type]:
            raise SnapshotError(
                f"{source}.{name}: Storage Read delivered {schema.field(name).type}, expected {ARROW_TYPES[bq_type]} "
                f"for {bq_type}"
            )
    return schema


def _gather(writer: SnapshotWriter, plan: _TablePlan) -> dict:
    """One manifest entry for a table from its per-stream files, moved under <staging>/<key>/."""
    folder = writer.staging / plan.table.key
    folder.mkdir(parents=True, exist_ok=True)
    files: list[dict] = []
    entry: dict | None = None
    for stream_writer, rows in zip(plan.writers, plan.stream_rows):
        if rows == 0:
            continue  # a stream that delivered no rows leaves no file
        entry = stream_writer.finish()
        for f in entry["files"]:
            target = folder / f"part-{len(files):05d}.parquet"
            (stream_writer.folder / Path(f["path"]).name).rename(target)
            files.append({**f, "path": f"{plan.table.key}/{target.name}"})
    if entry is None:  # no rows at all: one empty file with the full schema
        empty = TableWriter(writer.staging, plan.read)
        return empty.finish()
    entry["files"] = files
    entry["rows"] = sum(f["rows"] for f in files)
    entry["bytes"] = sum((writer.staging / f["path"]).stat().st_size for f in files)
    return entry


# --------------------------------------------------------------------------- the command


def _reused_report(out: Path, messages: list[str], began: float) -> SnapshotReport:
    existing = Snapshot.open(out, verify_checksums=False)
    report = SnapshotReport(out, True, None, messages=messages, contracts=existing.declared)
    for key, t in existing.tables.items():
        report.tables[key] = TableSummary(
            key,
            existing.manifest["tables"][key]["source"],
            t.start,
            t.end,
            t.rows,
            t.bytes,
            len(t.files),
            0,
            0,
            dict(t.column_types),
        )
    report.seconds = time.monotonic() - began
    return report


def _refuse_foreign_folder(out: Path) -> None:
    """Never replace a folder that is not a snapshot: SnapshotWriter swaps the whole folder."""
    from fsengine.output.write import refuse_foreign
    from fsengine.snapshot.format import foreign_snapshot

    refuse_foreign(out, foreign_snapshot, "snapshot")


def take_snapshot(
    config: Config,
    start: dt.date,
    end: dt.date,
    out: str | Path,
    refresh: bool = False,
    max_streams: int = DEFAULT_MAX_STREAMS,
    progress: Callable[[TableProgress], None] | None = None,
    *,
    log: Callable[[str], None] | None = None,
    max_resumes: int = DEFAULT_MAX_RESUMES,
    bigquery_client=None,
    read_client=None,
    contracts: Iterable[str] | None = None,
) -> SnapshotReport:
    """Snapshot what a run over [start, end] of `contracts` (default: every contract) needs
    into `out`: the union of their tables and columns, each table over the union of their
    windows (§4; docs/v2_54/sources.md §1); the manifest declares those contracts.

    `progress` gets a TableProgress after every message received; `log` gets one-line notes
    (reuse decisions, resumed streams). The clients default to the ones `config` builds.
    """
    began = time.monotonic()
    if start > end:
        raise InputError(f"--start {start} is after --end {end}")
    if not 1 <= max_streams <= 1000:
        raise InputError(f"--max-streams {max_streams}: expected 1 to 1000")
    chosen = check_contracts(contracts)
    out = Path(out)
    _refuse_foreign_folder(out)
    messages: list[str] = []

    def note(text: str) -> None:
        messages.append(text)
        if log is not None:
            log(text)

    from google.auth.exceptions import GoogleAuthError

    try:
        return _take(
            config,
            start,
            end,
            out,
            refresh=refresh,
            max_streams=max_streams,
            progress=progress,
            note=note,
            messages=messages,
            max_resumes=max_resumes,
            bigquery_client=bigquery_client,
            read_client=read_client,
            began=began,
            contracts=chosen,
        )
    except GoogleAuthError as exc:
        # The library's text may quote server responses; the type is enough and leaks nothing.
        raise ConfigError(
            f"BigQuery credentials could not be used ({type(exc).__name__}); refresh them with "
            "`gcloud auth application-default login` or check GOOGLE_APPLICATION_CREDENTIALS"
        ) from None


def _take(
    config: Config,
    start: dt.date,
    end: dt.date,
    out: Path,
    *,
    refresh: bool,
    max_streams: int,
    progress,
    note: Callable[[str], None],
    messages: list[str],
    max_resumes: int,
    bigquery_client,
    read_client,
    began: float,
    contracts: tuple[str, ...],
) -> SnapshotReport:
    with contextlib.ExitStack() as cleanup:  # close the clients built here, not those passed in
        bq = bigquery_client
        if bq is None:
            bq = make_bigquery_client(config)
            cleanup.callback(bq.close)
        tables = tables_for(contracts)
        live = {t.key: live_column_types(bq, config, t, columns_for(t, contracts)) for t in tables}
        needed = {t.key: required_bounds(t, start, end, contracts) for t in tables}
        bounds, reasons = plan_reads(out, config, live, needed, refresh, contracts)
        for reason in reasons:
            note(reason)
        if bounds is None:
            return _reused_report(out, messages, began)

        # One instant for every table, a second in the past: the client's clock may run ahead
        # of BigQuery's, and a snapshot time in the future is rejected.
        snapshot_time = (dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)).replace(microsecond=0)
        client = read_client
        if client is None:
            client = make_read_client(config)
            cleanup.callback(client.transport.close)
        report = SnapshotReport(out, False, snapshot_time, messages=messages, contracts=contracts)
        with SnapshotWriter(out, contracts) as writer:
            plans = []
            for table in tables:
                lo, hi = bounds[table.key]
                source = config.table_id(table.key)
                session = _open_session(
                    client, config, table, lo, hi, snapshot_time, max_streams, list(live[table.key])
                )
                schema = _session_schema(session, live[table.key], source)
                read = TableRead(table, lo, hi, snapshot_time, source, live[table.key])
                plans.append(_TablePlan(table, source, read, schema, [s.name for s in session.streams]))
                note(f"{table.key}: reading {lo} .. {hi} from {source} in {len(session.streams)} stream(s)")
            _Reader(config, client, writer.staging, max_streams, max_resumes, progress, note).run(plans)
            for plan in plans:
                entry = _gather(writer, plan)
                writer.entries[plan.table.key] = entry
                report.tables[plan.table.key] = TableSummary(
                    plan.table.key,
                    plan.source,
                    plan.read.start,
                    plan.read.end,
                    entry["rows"],
                    entry["bytes"],
                    len(entry["files"]),
                    len(plan.streams),
                    plan.resumes,
                    dict(plan.read.column_types),
                )
            shutil.rmtree(writer.staging / ".streams", ignore_errors=True)
            writer.commit()
    report.seconds = time.monotonic() - began
    note(f"snapshot written to {out} at snapshot time {rfc3339(snapshot_time)}")
    return report
